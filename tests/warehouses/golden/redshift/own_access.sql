-- params: schema_0='analytics', schema_1='analytics', table_0='events', table_1='Users'
SELECT
  "n"."nspname" AS "table_schema",
  "c"."relname" AS "table_name",
  HAS_SCHEMA_PRIVILEGE("n"."nspname", 'USAGE') AS "schema_usage",
  CASE
    WHEN HAS_SCHEMA_PRIVILEGE("n"."nspname", 'USAGE')
    THEN HAS_TABLE_PRIVILEGE(QUOTE_IDENT("n"."nspname") || '.' || QUOTE_IDENT("c"."relname"), 'SELECT')
  END AS "can_select",
  CAST(CURRENT_USER AS VARCHAR(128)) AS "login"
FROM "pg_catalog"."pg_class" AS "c"
JOIN "pg_catalog"."pg_namespace" AS "n"
  ON "n"."oid" = "c"."relnamespace"
WHERE
  "c"."relkind" IN ('r', 'p', 'v', 'm', 'f')
  AND (
    (
      "n"."nspname" = :schema_0 AND "c"."relname" = :table_0
    )
    OR (
      "n"."nspname" = :schema_1 AND "c"."relname" = :table_1
    )
  )
