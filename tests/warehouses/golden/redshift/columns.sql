-- params: schema_0='analytics', table_0='events', table_1='Users'
SELECT
  table_schema,
  table_name,
  column_name,
  CASE
    WHEN NOT character_maximum_length IS NULL
    THEN data_type || '(' || character_maximum_length || ')'
    WHEN data_type = 'numeric'
    THEN data_type || '(' || numeric_precision || ',' || numeric_scale || ')'
    ELSE data_type
  END AS data_type,
  is_nullable = 'YES' AS nullable
FROM svv_columns
WHERE
  table_catalog = CURRENT_DATABASE()
  AND (
    (
      table_schema = :schema_0 AND table_name IN (:table_0, :table_1)
    )
  )
ORDER BY
  table_schema,
  table_name,
  ordinal_position
