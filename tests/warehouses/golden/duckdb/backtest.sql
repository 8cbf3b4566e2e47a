-- params: delay_scale=100.49917080713044, end=datetime.datetime(2026, 3, 4, 0, 0, tzinfo=datetime.timezone.utc), end_epoch=1772582400.0, eps=1e-15, one_minus_eps=0.999999999999999, resolution=10000, start=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc), start_epoch=1772323200.0, threshold=0.4, window_seconds=86400.0
WITH "wd_rows" AS (
  SELECT
    CAST(FLOOR((
      epoch("p"."ts") - :start_epoch
    ) / :window_seconds) AS BIGINT) AS "wd_window",
    "p"."model version" AS "wd_g0",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      AND NOT "l"."churned" IS NULL
      THEN -CASE
        WHEN CASE WHEN CAST("l"."churned" AS INT) <> 0 THEN 1 ELSE 0 END = 1
        THEN LN(
          CASE
            WHEN CAST("p"."score" AS DOUBLE) < :eps
            THEN :eps
            WHEN CAST("p"."score" AS DOUBLE) > :one_minus_eps
            THEN :one_minus_eps
            ELSE CAST("p"."score" AS DOUBLE)
          END
        )
        ELSE LN(
          1 - CASE
            WHEN CAST("p"."score" AS DOUBLE) < :eps
            THEN :eps
            WHEN CAST("p"."score" AS DOUBLE) > :one_minus_eps
            THEN :one_minus_eps
            ELSE CAST("p"."score" AS DOUBLE)
          END
        )
      END
    END AS "wd_l",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      AND NOT "l"."churned" IS NULL
      THEN (
        CAST("p"."score" AS DOUBLE) - CASE WHEN CAST("l"."churned" AS INT) <> 0 THEN 1 ELSE 0 END
      ) * (
        CAST("p"."score" AS DOUBLE) - CASE WHEN CAST("l"."churned" AS INT) <> 0 THEN 1 ELSE 0 END
      )
    END AS "wd_b",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      THEN CAST(ROUND(CAST("p"."score" AS DOUBLE) * :resolution) AS BIGINT)
    END AS "wd_bucket",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      THEN CAST("p"."score" AS DOUBLE)
    END AS "wd_q",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      AND NOT "l"."churned" IS NULL
      THEN CAST("p"."score" AS DOUBLE)
    END AS "wd_s",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      AND NOT "l"."churned" IS NULL
      THEN CASE WHEN CAST("l"."churned" AS INT) <> 0 THEN 1 ELSE 0 END
    END AS "wd_y",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      AND NOT "l"."churned" IS NULL
      THEN epoch("l"."observed_at") - epoch("p"."ts")
    END AS "wd_delay",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      AND NOT "l"."churned" IS NULL
      THEN CASE
        WHEN epoch("l"."observed_at") - epoch("p"."ts") > 0
        THEN CAST(FLOOR(LN(1 + epoch("l"."observed_at") - epoch("p"."ts")) * :delay_scale) AS BIGINT)
        ELSE 0
      END
    END AS "wd_dbucket"
  FROM "analytics"."events" AS "p"
  LEFT JOIN "analytics"."labels" AS "l"
    ON "p"."id" = "l"."event_id" AND "p"."model" = "l"."model"
  WHERE
    "p"."ts" >= :start AND "p"."ts" < :end
)
SELECT
  "wd_window",
  "wd_g0",
  0 AS "wd_part",
  CAST(NULL AS BIGINT) AS "wd_bucket",
  COUNT(*) AS "predictions",
  COUNT("wd_y") AS "labelled",
  count_if("wd_s" >= :threshold AND "wd_y" = 1) AS "tp",
  count_if("wd_s" >= :threshold AND "wd_y" = 0) AS "fp",
  count_if("wd_s" < :threshold AND "wd_y" = 1) AS "fn",
  count_if("wd_y" = 1) AS "positives",
  SUM("wd_s") AS "score_sum",
  SUM("wd_l") AS "log_loss_sum",
  SUM("wd_l" * "wd_l") AS "log_loss_sq",
  SUM("wd_b") AS "brier_sum",
  SUM("wd_b" * "wd_b") AS "brier_sq",
  COUNT("wd_q") AS "scored",
  SUM(CASE WHEN "wd_q" >= :threshold THEN "wd_q" END) AS "est_tp",
  SUM(CASE WHEN "wd_q" >= :threshold THEN 1 - "wd_q" END) AS "est_fp",
  SUM(CASE WHEN "wd_q" < :threshold THEN "wd_q" END) AS "est_fn",
  SUM(CASE WHEN "wd_q" < :threshold THEN 1 - "wd_q" END) AS "est_tn",
  SUM("wd_delay") AS "delay_sum",
  MAX("wd_delay") AS "delay_max"
FROM "wd_rows"
GROUP BY
  1,
  2
UNION ALL
SELECT
  "wd_window",
  "wd_g0",
  1 AS "wd_part",
  "wd_bucket" AS "wd_bucket",
  NULL AS "predictions",
  COUNT("wd_y") AS "labelled",
  NULL AS "tp",
  NULL AS "fp",
  NULL AS "fn",
  count_if("wd_y" = 1) AS "positives",
  SUM("wd_q") AS "score_sum",
  NULL AS "log_loss_sum",
  NULL AS "log_loss_sq",
  NULL AS "brier_sum",
  NULL AS "brier_sq",
  COUNT("wd_q") AS "scored",
  NULL AS "est_tp",
  NULL AS "est_fp",
  NULL AS "est_fn",
  NULL AS "est_tn",
  NULL AS "delay_sum",
  NULL AS "delay_max"
FROM "wd_rows"
WHERE
  NOT "wd_bucket" IS NULL
GROUP BY
  1,
  2,
  4
UNION ALL
SELECT
  "wd_window",
  "wd_g0",
  2 AS "wd_part",
  "wd_dbucket" AS "wd_bucket",
  NULL AS "predictions",
  COUNT(*) AS "labelled",
  NULL AS "tp",
  NULL AS "fp",
  NULL AS "fn",
  NULL AS "positives",
  NULL AS "score_sum",
  NULL AS "log_loss_sum",
  NULL AS "log_loss_sq",
  NULL AS "brier_sum",
  NULL AS "brier_sq",
  NULL AS "scored",
  NULL AS "est_tp",
  NULL AS "est_fp",
  NULL AS "est_fn",
  NULL AS "est_tn",
  NULL AS "delay_sum",
  NULL AS "delay_max"
FROM "wd_rows"
WHERE
  NOT "wd_dbucket" IS NULL
GROUP BY
  1,
  2,
  4
ORDER BY
  1,
  2,
  3,
  4
