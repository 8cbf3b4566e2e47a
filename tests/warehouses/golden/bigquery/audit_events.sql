-- params: limit=5000, since=41, statement_types=['CREATE_TABLE', 'CREATE_TABLE_AS_SELECT', 'CREATE_VIEW', 'CREATE_MATERIALIZED_VIEW', 'CREATE_EXTERNAL_TABLE', 'CREATE_SNAPSHOT_TABLE', 'DROP_TABLE', 'DROP_VIEW', 'DROP_MATERIALIZED_VIEW', 'DROP_EXTERNAL_TABLE', 'DROP_SNAPSHOT_TABLE', 'ALTER_TABLE', 'ALTER_VIEW', 'ALTER_MATERIALIZED_VIEW']
SELECT UNIX_MICROS(end_time) AS seq, end_time, user_email, statement_type,
  destination_table.dataset_id AS dataset_id, destination_table.table_id AS table_id, query
FROM `test-proj`.`region-us`.INFORMATION_SCHEMA.JOBS
WHERE creation_time > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 7 DAY)
  AND creation_time > TIMESTAMP_SUB(TIMESTAMP_MICROS(@since), INTERVAL 6 HOUR)
  AND end_time > TIMESTAMP_MICROS(@since)
  AND job_type = 'QUERY' AND state = 'DONE' AND error_result IS NULL
  AND statement_type IN UNNEST(@statement_types)
ORDER BY end_time
LIMIT @limit
