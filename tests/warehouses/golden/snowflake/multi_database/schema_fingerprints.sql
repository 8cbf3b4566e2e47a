-- params: schema_0='analytics', schema_1='events', table_0='events', table_1='%'
SELECT
  0 AS part,
  table_schema,
  table_name,
  MD5(
    LISTAGG(
      
        column_name || CHR(  30) || CASE
          WHEN data_type = 'NUMBER'
          THEN 'NUMBER(' || numeric_precision || ',' || numeric_scale || ')'
          WHEN NOT character_maximum_length IS NULL
          THEN data_type || '(' || character_maximum_length || ')'
          ELSE data_type
        END || CHR(  30) || is_nullable,
        CHR(  31)
      
    ) WITHIN GROUP (ORDER BY
      ordinal_position)
  ) AS fingerprint
FROM "ANALYTICS".INFORMATION_SCHEMA.COLUMNS
WHERE
  (
    (
      table_schema = :schema_0 AND table_name = :table_0
    )
  )
GROUP BY
  table_schema,
  table_name
UNION ALL
SELECT
  1 AS part,
  table_schema,
  table_name,
  MD5(
    LISTAGG(
      
        column_name || CHR(  30) || CASE
          WHEN data_type = 'NUMBER'
          THEN 'NUMBER(' || numeric_precision || ',' || numeric_scale || ')'
          WHEN NOT character_maximum_length IS NULL
          THEN data_type || '(' || character_maximum_length || ')'
          ELSE data_type
        END || CHR(  30) || is_nullable,
        CHR(  31)
      
    ) WITHIN GROUP (ORDER BY
      ordinal_position)
  ) AS fingerprint
FROM "RAW".INFORMATION_SCHEMA.COLUMNS
WHERE
  (
    (
      table_schema = :schema_1 AND table_name LIKE :table_1 ESCAPE '\\'
    )
  )
GROUP BY
  table_schema,
  table_name
