-- params: (none)
SELECT
  COUNT(*) AS tables,
  MD5(
    LISTAGG(
      
        table_catalog || '.' || table_schema || '.' || table_name || '@' || CAST(last_ddl AS VARCHAR),
        ','
      
    ) WITHIN GROUP (ORDER BY
      table_catalog,
      table_schema,
      table_name)
  ) AS token
FROM (
  SELECT
    table_catalog,
    table_schema,
    table_name,
    last_ddl
  FROM "ANALYTICS".INFORMATION_SCHEMA.TABLES
  WHERE
    table_schema <> 'INFORMATION_SCHEMA'
) AS catalog_tables
