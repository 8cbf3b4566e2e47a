-- params: schema_0='analytics', schema_1='events', table_0='events', table_1='clicks'
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
      table_schema = :schema_0 AND table_name = :table_0
    )
  )
UNION ALL
SELECT
  1 AS part,
  table_schema,
  table_name,
  last_ddl,
  last_ddl_by
FROM "RAW".INFORMATION_SCHEMA.TABLES
WHERE
  (
    (
      table_schema = :schema_1 AND table_name = :table_1
    )
  )
