-- params: w0='2026-03-01 00:00:00'
SELECT
  strftime('%Y-%m-%d %H:%M:%f', MAX(julianday(`ts`))) AS `newest`
FROM `analytics`.`events`
WHERE
  `ts` >= :w0
