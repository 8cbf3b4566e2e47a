-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='feat\\_%'
SELECT table_schema, table_name, column_name, data_type,
  is_nullable = 'YES' AS nullable
FROM information_schema.columns
WHERE table_catalog = current_database()
  AND ((lower(table_schema) = lower(:schema_0) AND lower(table_name) = lower(:table_0))
   OR (lower(table_schema) = lower(:schema_1) AND lower(table_name) LIKE lower(:table_1) ESCAPE '\'))
ORDER BY table_schema, table_name, ordinal_position
