-- params: limit=5000, lookback_hours=24, since=41, since_at='1970-01-01 00:00:00.000041+00:00', t0='ALTER_TABLE', t1='ALTER_TABLE_ADD_COLUMN', t10='UNDROP', t11='ALTER', t2='ALTER_TABLE_DROP_COLUMN', t3='ALTER_TABLE_MODIFY_COLUMN', t4='RENAME_TABLE', t5='RENAME_COLUMN', t6='CREATE_TABLE', t7='CREATE_TABLE_AS_SELECT', t8='CREATE_VIEW', t9='DROP'
SELECT DATE_PART(EPOCH_MICROSECOND, start_time) AS seq, start_time, user_name,
  query_type, query_text, query_id, database_name, schema_name
FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY
WHERE start_time >= GREATEST(CAST(:since_at AS TIMESTAMP_TZ), DATEADD(HOUR, -:lookback_hours, CURRENT_TIMESTAMP()))
  AND DATE_PART(EPOCH_MICROSECOND, start_time) > :since
  AND execution_status = 'SUCCESS'
  AND query_type IN (:t0, :t1, :t2, :t3, :t4, :t5, :t6, :t7, :t8, :t9, :t10, :t11)
ORDER BY start_time, query_id
LIMIT :limit
