-- params: c0_e0=0.0, c0_e1=0.5, c0_e2=1.0, c1_e0=18.0, c1_e1=65.0, w0='2026-03-01 00:00:00'
SELECT
  COUNT(*) AS `row_count`,
  COUNT(CASE WHEN `score` IS NULL OR FALSE THEN 1 END),
  COUNT(CASE WHEN `score` < :c0_e0 THEN 1 END),
  COUNT(CASE WHEN `score` < :c0_e1 THEN 1 END),
  COUNT(CASE WHEN `score` <= :c0_e2 THEN 1 END),
  COUNT(CASE WHEN `age` IS NULL OR FALSE THEN 1 END),
  COUNT(CASE WHEN `age` < :c1_e0 THEN 1 END),
  COUNT(CASE WHEN `age` <= :c1_e1 THEN 1 END)
FROM `analytics`.`events`
WHERE
  `ts` >= :w0
