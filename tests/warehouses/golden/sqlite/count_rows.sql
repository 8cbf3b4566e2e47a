-- params: bucket_seconds=3600.0, end='2026-03-02 00:00:00', end_epoch=1772409600.0, start='2026-03-01 00:00:00', start_epoch=1772323200.0, w0_0='ok', w0_1='retry', w1='shadow'
SELECT
  CAST((
    ROUND((julianday(`ts`) - 2440587.5) * 86400.0, 3) - :start_epoch
  ) / :bucket_seconds AS INTEGER) AS `bucket_index`,
  COUNT(*) AS `row_count`
FROM `analytics`.`events`
WHERE
  ROUND((julianday(`ts`) - 2440587.5) * 86400.0, 3) >= :start_epoch
  AND ROUND((julianday(`ts`) - 2440587.5) * 86400.0, 3) < :end_epoch
  AND `status` IN (:w0_0, :w0_1)
  AND `model` <> :w1
GROUP BY
  1
