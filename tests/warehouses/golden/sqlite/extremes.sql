-- params: w0='2026-03-01 00:00:00'
SELECT
  MIN(CASE WHEN NOT (
    `score` IS NULL OR FALSE
  ) THEN `score` END),
  MAX(CASE WHEN NOT (
    `score` IS NULL OR FALSE
  ) THEN `score` END),
  MIN(CASE WHEN NOT (
    `age` IS NULL OR FALSE
  ) THEN `age` END),
  MAX(CASE WHEN NOT (
    `age` IS NULL OR FALSE
  ) THEN `age` END)
FROM `analytics`.`events`
WHERE
  `ts` >= :w0
