-- params: limit=100
SELECT *
FROM (
SELECT "id", "score"
FROM "analytics"."events"
WHERE "score" IS NOT NULL
) AS filtered
SAMPLE ROW (100 ROWS)
