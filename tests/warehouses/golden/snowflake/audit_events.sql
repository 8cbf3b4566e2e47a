-- params: limit=5000, lookback_hours=24, since=41, since_at='1970-01-01 00:00:00.000041+00:00', t0='ALTER_TABLE%', t1='CREATE_TABLE%', t2='CREATE_VIEW%', t3='RENAME_%', t4='DROP%', t5='UNDROP%', t6='ALTER', t7='CREATE'
SELECT DATE_PART(EPOCH_MICROSECOND, start_time) AS seq, start_time, user_name,
  query_type, query_text, query_id, database_name, schema_name
FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY
WHERE start_time >= GREATEST(CAST(:since_at AS TIMESTAMP_TZ), DATEADD(HOUR, -:lookback_hours, CURRENT_TIMESTAMP()))
  AND DATE_PART(EPOCH_MICROSECOND, start_time) > :since
  AND execution_status = 'SUCCESS'
  AND (query_type LIKE :t0 OR query_type LIKE :t1 OR query_type LIKE :t2 OR query_type LIKE :t3 OR query_type LIKE :t4 OR query_type LIKE :t5 OR query_type LIKE :t6 OR query_type LIKE :t7)
ORDER BY start_time, query_id
LIMIT :limit
