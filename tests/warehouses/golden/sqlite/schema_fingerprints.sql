-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='feat\\_%'
SELECT table_schema, table_name, group_concat(facts, char(31)) AS fingerprint
FROM (
SELECT 'main' AS table_schema, m.name AS table_name,
  p.cid || char(30) || p.name || char(30) || p.type || char(30) || p."notnull" AS facts
FROM sqlite_master AS m
JOIN pragma_table_info(m.name) AS p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND ((lower(:schema_0) = 'main' AND lower(m.name) = lower(:table_0))
   OR (lower(:schema_1) = 'main' AND m.name LIKE :table_1 ESCAPE '\'))
ORDER BY m.name, p.cid
) AS f
GROUP BY table_schema, table_name
