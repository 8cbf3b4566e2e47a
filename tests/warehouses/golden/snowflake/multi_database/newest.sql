-- params: (none)
SELECT
  MAX("ts") AS "newest",
  COUNT(*) AS "row_count"
FROM "RAW"."events"."clicks"
