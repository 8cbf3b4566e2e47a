-- params: schema_0='analytics', table_0='events', table_1='Users'
SELECT
  n.nspname AS table_schema,
  c.relname AS table_name,
  a.attname AS column_name,
  FORMAT_TYPE(a.atttypid, a.atttypmod) AS data_type,
  NOT a.attnotnull AS nullable
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS c
  ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace AS n
  ON n.oid = c.relnamespace
WHERE
  a.attnum > 0
  AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (
    (
      n.nspname = :schema_0 AND c.relname IN (:table_0, :table_1)
    )
  )
ORDER BY
  n.nspname,
  c.relname,
  a.attnum
