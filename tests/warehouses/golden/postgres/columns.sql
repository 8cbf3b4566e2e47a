-- params: schema_0='analytics', table_0='events', table_1='Users'
SELECT
  n.nspname AS table_schema,
  c.relname AS table_name,
  x.column_names,
  x.data_types,
  x.nullables
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n
  ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
  SELECT
    ARRAY_AGG(a.attname ORDER BY a.attnum) AS column_names,
    ARRAY_AGG(FORMAT_TYPE(a.atttypid, a.atttypmod) ORDER BY a.attnum) AS data_types,
    ARRAY_AGG(NOT a.attnotnull ORDER BY a.attnum) AS nullables
  FROM pg_catalog.pg_attribute AS a
  WHERE
    a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
) AS x
WHERE
  c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND x.column_names IS NOT NULL
  AND (
    (
      n.nspname = :schema_0 AND c.relname IN (:table_0, :table_1)
    )
  )
ORDER BY
  n.nspname,
  c.relname
