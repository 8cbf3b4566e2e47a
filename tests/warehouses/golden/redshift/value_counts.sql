-- params: v0_0='basic', v0_1='pro', v1_0='ok', w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  0 AS "feature",
  CASE
    WHEN "plan" IS NULL
    THEN -1
    WHEN CAST("plan" AS TEXT) IN (:v0_0, :v0_1)
    THEN 0
    ELSE 1
  END AS "slot",
  CASE WHEN CAST("plan" AS TEXT) IN (:v0_0, :v0_1) THEN CAST("plan" AS TEXT) END AS "value",
  COUNT(*) AS "row_count"
FROM "analytics"."events"
WHERE
  "ts" >= :w0
GROUP BY
  2,
  3
UNION ALL
SELECT
  1 AS "feature",
  CASE
    WHEN "status" IS NULL
    THEN -1
    WHEN CAST("status" AS TEXT) IN (:v1_0)
    THEN 0
    ELSE 1
  END AS "slot",
  CASE WHEN CAST("status" AS TEXT) IN (:v1_0) THEN CAST("status" AS TEXT) END AS "value",
  COUNT(*) AS "row_count"
FROM "analytics"."events"
WHERE
  "ts" >= :w0
GROUP BY
  2,
  3
