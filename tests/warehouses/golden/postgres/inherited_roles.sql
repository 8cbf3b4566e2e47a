-- params: principal='churn_svc', role_0='readers', role_1='Reporting'
SELECT
  "r"."rolname" AS "name"
FROM "pg_catalog"."pg_roles" AS "r"
WHERE
  CASE
    WHEN "r"."rolname" IN (:role_0, :role_1)
    THEN PG_HAS_ROLE(CAST(:principal AS VARCHAR(128)), "r"."rolname", 'USAGE')
    ELSE FALSE
  END
