-- params: schema_0='analytics', table_0='events', table_1='Users'
SELECT
  0 AS part,
  table_schema,
  table_name,
  column_name,
  CASE
    WHEN data_type = 'NUMBER'
    THEN 'NUMBER(' || numeric_precision || ',' || numeric_scale || ')'
    WHEN NOT character_maximum_length IS NULL
    THEN data_type || '(' || character_maximum_length || ')'
    ELSE data_type
  END AS data_type,
  is_nullable = 'YES' AS nullable,
  ordinal_position
FROM "ANALYTICS".INFORMATION_SCHEMA.COLUMNS
WHERE
  (
    (
      table_schema = :schema_0 AND table_name IN (:table_0, :table_1)
    )
  )
ORDER BY
  part,
  table_schema,
  table_name,
  ordinal_position
