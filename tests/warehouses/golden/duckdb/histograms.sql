-- params: c0_e0=0.0, c0_e1=0.5, c0_e2=1.0, c1_e0=18.0, c1_e1=65.0, w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  COUNT(*) AS "row_count",
  count_if("score" IS NULL OR ISNAN(CAST("score" AS DOUBLE))),
  count_if("score" < :c0_e0),
  count_if("score" < :c0_e1),
  count_if("score" <= :c0_e2),
  count_if("age" IS NULL OR ISNAN(CAST("age" AS DOUBLE))),
  count_if("age" < :c1_e0),
  count_if("age" <= :c1_e1)
FROM "analytics"."events"
WHERE
  "ts" >= :w0
