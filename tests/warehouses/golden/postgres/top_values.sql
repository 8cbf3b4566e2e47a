-- params: limit=21, w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  "value",
  "row_count",
  "total_rows"
FROM (
  SELECT
    CAST("plan" AS TEXT) AS "value",
    COUNT(*) AS "row_count",
    SUM(COUNT(*)) OVER () AS "total_rows",
    ROW_NUMBER() OVER (
      ORDER BY CASE WHEN "plan" IS NULL THEN 0 ELSE 1 END NULLS FIRST, COUNT(*) DESC NULLS LAST, CAST("plan" AS TEXT) NULLS FIRST
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
