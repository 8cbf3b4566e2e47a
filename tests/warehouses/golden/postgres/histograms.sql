-- params: c0_e0=0.0, c0_e1=0.5, c0_e2=1.0, c1_e0=18.0, c1_e1=65.0, w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  COUNT(*) AS "row_count",
  COUNT(CASE WHEN "score" IS NULL
  OR CAST("score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION) THEN 1 END),
  COUNT(CASE WHEN "score" < :c0_e0 THEN 1 END),
  COUNT(CASE WHEN "score" < :c0_e1 THEN 1 END),
  COUNT(CASE WHEN "score" <= :c0_e2 THEN 1 END),
  COUNT(CASE WHEN "age" IS NULL
  OR CAST("age" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION) THEN 1 END),
  COUNT(CASE WHEN "age" < :c1_e0 THEN 1 END),
  COUNT(CASE WHEN "age" <= :c1_e1 THEN 1 END)
FROM "analytics"."events"
WHERE
  "ts" >= :w0
