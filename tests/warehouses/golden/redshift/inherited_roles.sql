-- params: principal='churn_svc', role_0='readers', role_1='Reporting'
SELECT
  "r"."usename" AS "name"
FROM "pg_catalog"."pg_user" AS "r"
WHERE
  CASE
    WHEN "r"."usename" IN (:role_0, :role_1)
    THEN PG_HAS_ROLE(CAST(:principal AS VARCHAR(128)), "r"."usename", 'USAGE')
    ELSE FALSE
  END
