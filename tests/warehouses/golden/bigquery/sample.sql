-- params: limit=100
SELECT `id`, `score`
FROM `test-proj`.`analytics`.`events`
WHERE `score` IS NOT NULL
ORDER BY RAND()
LIMIT @limit
