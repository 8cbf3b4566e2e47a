-- params: v0='basic', v1='pro', w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  CASE
    WHEN "plan" IS NULL
    THEN -1
    WHEN CAST("plan" AS TEXT) IN (:v0, :v1)
    THEN 0
    ELSE 1
  END AS "slot",
  CASE WHEN CAST("plan" AS TEXT) IN (:v0, :v1) THEN CAST("plan" AS TEXT) END AS "value",
  COUNT(*) AS "row_count"
FROM "analytics"."events"
WHERE
  "ts" >= :w0
GROUP BY
  1,
  2
