-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='feat\\_%'
SELECT
  'main' AS table_schema,
  m.name AS table_name,
  p.name AS column_name,
  p.type AS data_type,
  p.`notnull` = 0 AS nullable
FROM sqlite_master AS m
JOIN PRAGMA_TABLE_INFO(m.name) AS p
  ON TRUE
WHERE
  m.type IN ('table', 'view')
  AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND (
    (
      LOWER('main') = LOWER(:schema_0) AND LOWER(m.name) = LOWER(:table_0)
    )
    OR (
      LOWER('main') = LOWER(:schema_1) AND m.name LIKE :table_1 ESCAPE '\'
    )
  )
ORDER BY
  m.name,
  p.cid
