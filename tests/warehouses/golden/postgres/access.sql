-- params: principal_0='churn_svc', principal_1='Reporting', privilege_0='SELECT', privilege_1='INSERT', schema_0='analytics', schema_1='analytics', table_0='events', table_1='Users'
SELECT
  "p"."principal",
  "n"."nspname" AS "table_schema",
  "c"."relname" AS "table_name",
  "v"."privilege",
  NOT "r"."name" IS NULL AS "principal_exists",
  CASE
    WHEN NOT "r"."name" IS NULL
    THEN HAS_SCHEMA_PRIVILEGE("p"."principal", "n"."nspname", 'USAGE')
  END AS "schema_usage",
  CASE
    WHEN NOT "r"."name" IS NULL
    AND HAS_SCHEMA_PRIVILEGE("p"."principal", "n"."nspname", 'USAGE')
    THEN HAS_TABLE_PRIVILEGE(
      "p"."principal",
      QUOTE_IDENT("n"."nspname") || '.' || QUOTE_IDENT("c"."relname"),
      "v"."privilege"
    )
  END AS "granted"
FROM (
  SELECT
    CAST(:principal_0 AS VARCHAR(128)) AS "principal"
  UNION ALL
  SELECT
    CAST(:principal_1 AS VARCHAR(128)) AS "principal"
) AS "p"
LEFT JOIN (
  SELECT
    "rolname" AS "name"
  FROM "pg_catalog"."pg_roles"
) AS "r"
  ON "r"."name" = "p"."principal"
CROSS JOIN (
  SELECT
    CAST(:privilege_0 AS VARCHAR(16)) AS "privilege"
  UNION ALL
  SELECT
    CAST(:privilege_1 AS VARCHAR(16)) AS "privilege"
) AS "v"
CROSS JOIN "pg_catalog"."pg_class" AS "c"
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
ORDER BY
  1,
  2,
  3,
  4
