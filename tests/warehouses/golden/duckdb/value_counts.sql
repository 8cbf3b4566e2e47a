-- params: v0_0='basic', v0_1='pro', v1_0='ok', w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  0 AS "feature",
  CASE WHEN "plan" IS NULL THEN -1 WHEN "plan" IN (:v0_0, :v0_1) THEN 0 ELSE 1 END AS "slot",
  CASE WHEN "plan" IN (:v0_0, :v0_1) THEN "plan" END AS "value",
  SUM("wd_rows") AS "row_count"
FROM (
  SELECT
    CAST("plan" AS TEXT) AS "plan",
    COUNT(*) AS "wd_rows"
  FROM "analytics"."events"
  WHERE
    "ts" >= :w0
  GROUP BY
    1
) AS "grouped"
GROUP BY
  2,
  3
UNION ALL
SELECT
  1 AS "feature",
  CASE WHEN "status" IS NULL THEN -1 WHEN "status" IN (:v1_0) THEN 0 ELSE 1 END AS "slot",
  CASE WHEN "status" IN (:v1_0) THEN "status" END AS "value",
  SUM("wd_rows") AS "row_count"
FROM (
  SELECT
    CAST("status" AS TEXT) AS "status",
    COUNT(*) AS "wd_rows"
  FROM "analytics"."events"
  WHERE
    "ts" >= :w0
  GROUP BY
    1
) AS "grouped"
GROUP BY
  2,
  3
