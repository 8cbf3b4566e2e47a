-- params: database_0='ANALYTICS', database_1='OTHER'
SELECT
  'object' AS "kind",
  "GRANTEE_NAME" AS "grantee",
  "PRIVILEGE" AS "privilege",
  "GRANTED_ON" AS "granted_on",
  "TABLE_CATALOG" AS "catalog",
  "TABLE_SCHEMA" AS "schema_name",
  "NAME" AS "name"
FROM "SNOWFLAKE"."ACCOUNT_USAGE"."GRANTS_TO_ROLES"
WHERE
  "DELETED_ON" IS NULL
  AND "GRANTED_ON" IN ('TABLE', 'VIEW', 'SCHEMA', 'DATABASE')
  AND UPPER(COALESCE("TABLE_CATALOG", "NAME")) IN (:database_0, :database_1)
UNION ALL
SELECT
  'role' AS "kind",
  "GRANTEE_NAME" AS "grantee",
  "PRIVILEGE" AS "privilege",
  "GRANTED_ON" AS "granted_on",
  NULL AS "catalog",
  NULL AS "schema_name",
  "NAME" AS "name"
FROM "SNOWFLAKE"."ACCOUNT_USAGE"."GRANTS_TO_ROLES"
WHERE
  "DELETED_ON" IS NULL AND "GRANTED_ON" = 'ROLE'
UNION ALL
SELECT
  'user' AS "kind",
  "GRANTEE_NAME" AS "grantee",
  'USAGE' AS "privilege",
  'ROLE' AS "granted_on",
  NULL AS "catalog",
  NULL AS "schema_name",
  "ROLE" AS "name"
FROM "SNOWFLAKE"."ACCOUNT_USAGE"."GRANTS_TO_USERS"
WHERE
  "DELETED_ON" IS NULL
