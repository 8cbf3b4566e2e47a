-- params: w0='2026-03-01 00:00:00+00:00'
SELECT
  MAX("ts") AS "newest",
  COUNT(*) AS "row_count"
FROM "analytics"."events"
WHERE
  "ts" >= :w0
