-- params: schema_0='analytics', table_0='events', table_1='Users'
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
  AND (
    (
      LOWER('main') = LOWER(:schema_0)
      AND LOWER(m.name) IN (LOWER(:table_0), LOWER(:table_1))
    )
  )
ORDER BY
  m.name,
  p.cid
