-- params: bucket_seconds=3600.0, end='2026-03-02 00:00:00', end_epoch=1772409600.0, s0_0='ok', s0_1='cached', s1=500, start='2026-03-01 00:00:00', start_epoch=1772323200.0, w0='prod'
SELECT
  CAST((
    ROUND((julianday(`ts`) - 2440587.5) * 86400.0, 3) - :start_epoch
  ) / :bucket_seconds AS INTEGER) AS `bucket_index`,
  `model`,
  `model version`,
  COUNT(*) AS `row_count`,
  SUM(
    CASE
      WHEN (
        `status` IN (:s0_0, :s0_1)
      ) AND (
        `latency_ms` < :s1
      )
      THEN 1
      ELSE 0
    END
  ) AS `success_count`,
  MAX(
    CASE
      WHEN (
        `status` IN (:s0_0, :s0_1)
      ) AND (
        `latency_ms` < :s1
      )
      THEN ROUND((julianday(`ts`) - 2440587.5) * 86400.0, 3)
    END
  ) AS `last_success_epoch`
FROM `analytics`.`events`
WHERE
  ROUND((julianday(`ts`) - 2440587.5) * 86400.0, 3) >= :start_epoch
  AND ROUND((julianday(`ts`) - 2440587.5) * 86400.0, 3) < :end_epoch
  AND `env` = :w0
GROUP BY
  1,
  2,
  3
