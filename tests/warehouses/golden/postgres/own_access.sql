-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='Users'
SELECT n.nspname AS table_schema, c.relname AS table_name,
  has_schema_privilege(n.nspname, 'USAGE') AS schema_usage,
  CASE WHEN has_schema_privilege(n.nspname, 'USAGE')
    THEN has_table_privilege(quote_ident(n.nspname) || '.' || quote_ident(c.relname), 'SELECT') END AS can_select,
  CAST(current_user AS VARCHAR(128)) AS login
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND ((n.nspname = :schema_0 AND c.relname = :table_0)
   OR (n.nspname = :schema_1 AND c.relname = :table_1))
