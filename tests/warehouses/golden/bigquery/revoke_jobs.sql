-- params: hours=24, limit=5000
SELECT UNIX_MICROS(end_time) AS seq, end_time, user_email, statement_type, query
FROM `test-proj`.`region-us`.INFORMATION_SCHEMA.JOBS
WHERE creation_time > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL @hours HOUR)
  AND job_type = 'QUERY' AND state = 'DONE' AND error_result IS NULL
  AND statement_type = 'REVOKE'
ORDER BY end_time DESC
LIMIT @limit
