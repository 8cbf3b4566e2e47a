-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='feat\\_%'
SELECT
  table_schema,
  table_name,
  GROUP_CONCAT(facts, CHAR(31)) AS fingerprint
FROM (
  SELECT
    'main' AS table_schema,
    m.name AS table_name,
    p.cid || CHAR(30) || p.name || CHAR(30) || p.type || CHAR(30) || p.`notnull` AS facts
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
) AS f
GROUP BY
  table_schema,
  table_name
