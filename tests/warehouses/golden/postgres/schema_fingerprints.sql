-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='feat\\_%'
SELECT
  n.nspname AS table_schema,
  c.relname AS table_name,
  (
    SELECT
      MD5(
        STRING_AGG(
          
            a.attname || CHR(  30) || FORMAT_TYPE(a.atttypid, a.atttypmod) || CHR(  30) || CASE WHEN a.attnotnull THEN '0' ELSE '1' END,
            CHR(  31)
          
          ORDER BY
            a.attnum
        )
      )
    FROM pg_catalog.pg_attribute AS a
    WHERE
      a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  ) AS fingerprint
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n
  ON n.oid = c.relnamespace
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
