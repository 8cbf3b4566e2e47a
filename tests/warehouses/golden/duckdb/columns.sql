-- params: schema_0='analytics', table_0='events', table_1='Users'
SELECT
  table_schema,
  table_name,
  column_name,
  data_type,
  nullable
FROM (
  SELECT
    database_name,
    schema_name AS table_schema,
    table_name,
    column_name,
    data_type,
    is_nullable AS nullable,
    column_index
  FROM DUCKDB_COLUMNS()
) AS c
WHERE
  database_name = CURRENT_DATABASE()
  AND (
    (
      LOWER(table_schema) = LOWER(:schema_0)
      AND LOWER(table_name) IN (LOWER(:table_0), LOWER(:table_1))
    )
  )
ORDER BY
  table_schema,
  table_name,
  column_index
