-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='feat\\_%'
SELECT 'main' AS table_schema, m.name AS table_name, p.name AS column_name,
  p.type AS data_type, p."notnull" = 0 AS nullable
FROM sqlite_master AS m
JOIN pragma_table_info(m.name) AS p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND ((lower(:schema_0) = 'main' AND lower(m.name) = lower(:table_0))
   OR (lower(:schema_1) = 'main' AND m.name LIKE :table_1 ESCAPE '\'))
ORDER BY m.name, p.cid
