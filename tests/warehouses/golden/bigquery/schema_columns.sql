-- params: pattern_0_0='feat\\_%', tables_0=['events']
SELECT
  table_schema,
  table_name,
  column_name,
  data_type,
  nullable
FROM (
  SELECT
    c.table_schema,
    c.table_name,
    f.field_path AS column_name,
    f.data_type,
    c.is_nullable = 'YES' AS nullable,
    c.ordinal_position AS position
  FROM `test-proj`.`analytics`.INFORMATION_SCHEMA.COLUMNS AS c
  JOIN `test-proj`.`analytics`.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS AS f
    ON f.table_name = c.table_name AND f.column_name = c.column_name
  WHERE
    c.is_hidden = 'NO'
    AND (
      c.table_name IN UNNEST(@tables_0) OR c.table_name LIKE @pattern_0_0
    )
) AS found
ORDER BY
  table_schema,
  table_name,
  position,
  column_name
