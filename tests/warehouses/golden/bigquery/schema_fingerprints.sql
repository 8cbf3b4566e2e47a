-- params: pattern_0_0='feat\\_%', tables_0=['events']
SELECT
  c.table_schema,
  c.table_name,
  TO_HEX(
    MD5(
      STRING_AGG(
        CONCAT(f.field_path, CHR(  30), f.data_type, CHR(  30), c.is_nullable), CHR(  31)
        ORDER BY
          c.ordinal_position,
          f.field_path
      )
    )
  ) AS fingerprint
FROM `test-proj`.`analytics`.INFORMATION_SCHEMA.COLUMNS AS c
JOIN `test-proj`.`analytics`.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS AS f
  ON f.table_name = c.table_name AND f.column_name = c.column_name
WHERE
  c.is_hidden = 'NO'
  AND (
    c.table_name IN UNNEST(@tables_0) OR c.table_name LIKE @pattern_0_0
  )
GROUP BY
  c.table_schema,
  c.table_name
