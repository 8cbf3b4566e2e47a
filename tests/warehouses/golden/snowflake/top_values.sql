-- params: limit=21, w0='2026-03-01 00:00:00+00:00'
SELECT
  "value",
  "row_count",
  "total_rows"
FROM (
  SELECT
    CAST("plan" AS VARCHAR) AS "value",
    COUNT(*) AS "row_count",
    SUM(COUNT(*)) OVER () AS "total_rows",
    ROW_NUMBER() OVER (
      ORDER BY CASE WHEN "plan" IS NULL THEN 0 ELSE 1 END NULLS FIRST, COUNT(*) DESC NULLS LAST, CAST("plan" AS VARCHAR) NULLS FIRST
    ) AS "position"
  FROM "analytics"."events"
  WHERE
    "ts" >= :w0
  GROUP BY
    "plan"
) AS "ranked"
WHERE
  "position" <= :limit
ORDER BY
  "position"
