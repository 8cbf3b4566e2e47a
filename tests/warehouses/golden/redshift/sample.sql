-- params: limit=100
SELECT "id", "score"
FROM "analytics"."events"
WHERE "score" IS NOT NULL
ORDER BY random()
LIMIT :limit
