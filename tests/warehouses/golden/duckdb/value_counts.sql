-- params: v0='basic', v1='pro', w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  CASE WHEN "plan" IS NULL THEN -1 WHEN "plan" IN (:v0, :v1) THEN 0 ELSE 1 END AS "slot",
  CASE WHEN "plan" IN (:v0, :v1) THEN "plan" END AS "value",
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
  1,
  2
