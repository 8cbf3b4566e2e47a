-- params: schema_0='analytics', table_0='events', table_1='Users'
SELECT
  0 AS part,
  table_schema,
  table_name,
  last_ddl,
  last_ddl_by
FROM "ANALYTICS".INFORMATION_SCHEMA.TABLES
WHERE
  (
    (
      table_schema = :schema_0 AND table_name IN (:table_0, :table_1)
    )
  )
