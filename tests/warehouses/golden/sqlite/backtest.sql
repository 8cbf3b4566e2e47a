-- params: delay_scale=100.49917080713044, end='2026-03-04 00:00:00', end_epoch=1772582400.0, eps=1e-15, one_minus_eps=0.999999999999999, resolution=10000, start='2026-03-01 00:00:00', start_epoch=1772323200.0, threshold=0.4, window_seconds=86400.0
WITH `wd_rows` AS (
  SELECT
    CAST(FLOOR(
      CAST((
        ROUND((julianday(`p`.`ts`) - 2440587.5) * 86400.0, 3) - :start_epoch
      ) AS REAL) / :window_seconds
    ) AS INTEGER) AS `wd_window`,
    `p`.`model version` AS `wd_g0`,
    CASE
      WHEN NOT (
        CAST(`p`.`score` AS REAL) IS NULL OR FALSE
      )
      AND NOT `l`.`churned` IS NULL
      THEN -CASE
        WHEN CASE WHEN CAST(`l`.`churned` AS INTEGER) <> 0 THEN 1 ELSE 0 END = 1
        THEN LN(
          CASE
            WHEN CAST(`p`.`score` AS REAL) < :eps
            THEN :eps
            WHEN CAST(`p`.`score` AS REAL) > :one_minus_eps
            THEN :one_minus_eps
            ELSE CAST(`p`.`score` AS REAL)
          END
        )
        ELSE LN(
          1 - CASE
            WHEN CAST(`p`.`score` AS REAL) < :eps
            THEN :eps
            WHEN CAST(`p`.`score` AS REAL) > :one_minus_eps
            THEN :one_minus_eps
            ELSE CAST(`p`.`score` AS REAL)
          END
        )
      END
    END AS `wd_l`,
    CASE
      WHEN NOT (
        CAST(`p`.`score` AS REAL) IS NULL OR FALSE
      )
      AND NOT `l`.`churned` IS NULL
      THEN (
        CAST(`p`.`score` AS REAL) - CASE WHEN CAST(`l`.`churned` AS INTEGER) <> 0 THEN 1 ELSE 0 END
      ) * (
        CAST(`p`.`score` AS REAL) - CASE WHEN CAST(`l`.`churned` AS INTEGER) <> 0 THEN 1 ELSE 0 END
      )
    END AS `wd_b`,
    CASE
      WHEN NOT (
        CAST(`p`.`score` AS REAL) IS NULL OR FALSE
      )
      THEN CAST(ROUND(CAST(`p`.`score` AS REAL) * :resolution) AS INTEGER)
    END AS `wd_bucket`,
    CASE
      WHEN NOT (
        CAST(`p`.`score` AS REAL) IS NULL OR FALSE
      )
      THEN CAST(`p`.`score` AS REAL)
    END AS `wd_q`,
    CASE
      WHEN NOT (
        CAST(`p`.`score` AS REAL) IS NULL OR FALSE
      )
      AND NOT `l`.`churned` IS NULL
      THEN CAST(`p`.`score` AS REAL)
    END AS `wd_s`,
    CASE
      WHEN NOT (
        CAST(`p`.`score` AS REAL) IS NULL OR FALSE
      )
      AND NOT `l`.`churned` IS NULL
      THEN CASE WHEN CAST(`l`.`churned` AS INTEGER) <> 0 THEN 1 ELSE 0 END
    END AS `wd_y`,
    CASE
      WHEN NOT (
        CAST(`p`.`score` AS REAL) IS NULL OR FALSE
      )
      AND NOT `l`.`churned` IS NULL
      THEN ROUND((julianday(`l`.`observed_at`) - 2440587.5) * 86400.0, 3) - ROUND((julianday(`p`.`ts`) - 2440587.5) * 86400.0, 3)
    END AS `wd_delay`,
    CASE
      WHEN NOT (
        CAST(`p`.`score` AS REAL) IS NULL OR FALSE
      )
      AND NOT `l`.`churned` IS NULL
      THEN CASE
        WHEN ROUND((julianday(`l`.`observed_at`) - 2440587.5) * 86400.0, 3) - ROUND((julianday(`p`.`ts`) - 2440587.5) * 86400.0, 3) > 0
        THEN CAST(FLOOR(
          LN(
            1 + ROUND((julianday(`l`.`observed_at`) - 2440587.5) * 86400.0, 3) - ROUND((julianday(`p`.`ts`) - 2440587.5) * 86400.0, 3)
          ) * :delay_scale
        ) AS INTEGER)
        ELSE 0
      END
    END AS `wd_dbucket`
  FROM `analytics`.`events` AS `p`
  LEFT JOIN `analytics`.`labels` AS `l`
    ON `p`.`id` = `l`.`event_id` AND `p`.`model` = `l`.`model`
  WHERE
    ROUND((julianday(`p`.`ts`) - 2440587.5) * 86400.0, 3) >= :start_epoch
    AND ROUND((julianday(`p`.`ts`) - 2440587.5) * 86400.0, 3) < :end_epoch
)
SELECT
  `wd_window`,
  `wd_g0`,
  0 AS `wd_part`,
  CAST(NULL AS INTEGER) AS `wd_bucket`,
  COUNT(*) AS `predictions`,
  COUNT(`wd_y`) AS `labelled`,
  COUNT(CASE WHEN `wd_s` >= :threshold AND `wd_y` = 1 THEN 1 END) AS `tp`,
  COUNT(CASE WHEN `wd_s` >= :threshold AND `wd_y` = 0 THEN 1 END) AS `fp`,
  COUNT(CASE WHEN `wd_s` < :threshold AND `wd_y` = 1 THEN 1 END) AS `fn`,
  COUNT(CASE WHEN `wd_y` = 1 THEN 1 END) AS `positives`,
  SUM(`wd_s`) AS `score_sum`,
  SUM(`wd_l`) AS `log_loss_sum`,
  SUM(`wd_l` * `wd_l`) AS `log_loss_sq`,
  SUM(`wd_b`) AS `brier_sum`,
  SUM(`wd_b` * `wd_b`) AS `brier_sq`,
  COUNT(`wd_q`) AS `scored`,
  SUM(CASE WHEN `wd_q` >= :threshold THEN `wd_q` END) AS `est_tp`,
  SUM(CASE WHEN `wd_q` >= :threshold THEN 1 - `wd_q` END) AS `est_fp`,
  SUM(CASE WHEN `wd_q` < :threshold THEN `wd_q` END) AS `est_fn`,
  SUM(CASE WHEN `wd_q` < :threshold THEN 1 - `wd_q` END) AS `est_tn`,
  SUM(`wd_delay`) AS `delay_sum`,
  MAX(`wd_delay`) AS `delay_max`
FROM `wd_rows`
GROUP BY
  1,
  2
UNION ALL
SELECT
  `wd_window`,
  `wd_g0`,
  1 AS `wd_part`,
  `wd_bucket` AS `wd_bucket`,
  NULL AS `predictions`,
  COUNT(`wd_y`) AS `labelled`,
  NULL AS `tp`,
  NULL AS `fp`,
  NULL AS `fn`,
  COUNT(CASE WHEN `wd_y` = 1 THEN 1 END) AS `positives`,
  SUM(`wd_q`) AS `score_sum`,
  NULL AS `log_loss_sum`,
  NULL AS `log_loss_sq`,
  NULL AS `brier_sum`,
  NULL AS `brier_sq`,
  COUNT(`wd_q`) AS `scored`,
  NULL AS `est_tp`,
  NULL AS `est_fp`,
  NULL AS `est_fn`,
  NULL AS `est_tn`,
  NULL AS `delay_sum`,
  NULL AS `delay_max`
FROM `wd_rows`
WHERE
  NOT `wd_bucket` IS NULL
GROUP BY
  1,
  2,
  4
UNION ALL
SELECT
  `wd_window`,
  `wd_g0`,
  2 AS `wd_part`,
  `wd_dbucket` AS `wd_bucket`,
  NULL AS `predictions`,
  COUNT(*) AS `labelled`,
  NULL AS `tp`,
  NULL AS `fp`,
  NULL AS `fn`,
  NULL AS `positives`,
  NULL AS `score_sum`,
  NULL AS `log_loss_sum`,
  NULL AS `log_loss_sq`,
  NULL AS `brier_sum`,
  NULL AS `brier_sq`,
  NULL AS `scored`,
  NULL AS `est_tp`,
  NULL AS `est_fp`,
  NULL AS `est_fn`,
  NULL AS `est_tn`,
  NULL AS `delay_sum`,
  NULL AS `delay_max`
FROM `wd_rows`
WHERE
  NOT `wd_dbucket` IS NULL
GROUP BY
  1,
  2,
  4
ORDER BY
  1,
  2,
  3,
  4
