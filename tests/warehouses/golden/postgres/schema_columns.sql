-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='feat\\_%'
SELECT
  n.nspname AS table_schema,
  c.relname AS table_name,
  a.attname AS column_name,
  FORMAT_TYPE(a.atttypid, a.atttypmod) AS data_type,
  NOT a.attnotnull AS nullable
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n
  ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute AS a
  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE
  c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (
    (
      n.nspname = :schema_0 AND c.relname = :table_0
    )
    OR (
      n.nspname = :schema_1 AND c.relname LIKE :table_1 ESCAPE '\'
    )
  )
ORDER BY
  n.nspname,
  c.relname,
  a.attnum
