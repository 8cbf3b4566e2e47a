-- params: lookback_hours=24, q0='01b2c3d4-0000-0001', q1='01b2c3d4-0000-0002', since_at='2026-03-01 00:00:00+00:00'
SELECT query_id,
  CAST(object_modified_by_ddl\:objectName AS VARCHAR) AS object_name
FROM SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY
WHERE query_start_time >= GREATEST(CAST(:since_at AS TIMESTAMP_TZ), DATEADD(HOUR, -:lookback_hours, CURRENT_TIMESTAMP()))
  AND object_modified_by_ddl IS NOT NULL
  AND query_id IN (:q0, :q1)
