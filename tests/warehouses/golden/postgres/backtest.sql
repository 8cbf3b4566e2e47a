-- params: end=datetime.datetime(2026, 3, 4, 0, 0, tzinfo=datetime.timezone.utc), end_epoch=1772582400.0, eps=1e-15, one_minus_eps=0.999999999999999, resolution=10000, start=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc), start_epoch=1772323200.0, threshold=0.4, window_seconds=86400.0
SELECT
  "wd_window",
  "wd_g0",
  "wd_bucket",
  COUNT(*) AS "predictions",
  COUNT("wd_y") AS "labelled",
  COUNT(CASE WHEN "wd_s" >= :threshold AND "wd_y" = 1 THEN 1 END) AS "tp",
  COUNT(CASE WHEN "wd_s" >= :threshold AND "wd_y" = 0 THEN 1 END) AS "fp",
  COUNT(CASE WHEN "wd_s" < :threshold AND "wd_y" = 1 THEN 1 END) AS "fn",
  COUNT(CASE WHEN "wd_y" = 1 THEN 1 END) AS "positives",
  SUM("wd_s") AS "score_sum",
  -SUM(CASE WHEN "wd_y" = 1 THEN LN("wd_p") ELSE LN(1 - "wd_p") END) AS "log_loss_sum",
  SUM(
    (
      CASE WHEN "wd_y" = 1 THEN LN("wd_p") ELSE LN(1 - "wd_p") END
    ) * (
      CASE WHEN "wd_y" = 1 THEN LN("wd_p") ELSE LN(1 - "wd_p") END
    )
  ) AS "log_loss_sq",
  SUM((
    "wd_s" - "wd_y"
  ) * (
    "wd_s" - "wd_y"
  )) AS "brier_sum",
  SUM(
    (
      (
        "wd_s" - "wd_y"
      ) * (
        "wd_s" - "wd_y"
      )
    ) * (
      (
        "wd_s" - "wd_y"
      ) * (
        "wd_s" - "wd_y"
      )
    )
  ) AS "brier_sq",
  SUM("wd_delay") AS "delay_sum",
  MAX("wd_delay") AS "delay_max"
FROM (
  SELECT
    CAST(FLOOR(
      CAST((
        EXTRACT(EPOCH FROM "p"."ts") - :start_epoch
      ) AS DOUBLE PRECISION) / :window_seconds
    ) AS BIGINT) AS "wd_window",
    "p"."model version" AS "wd_g0",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE PRECISION) IS NULL
        OR CAST("p"."score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      AND NOT "l"."churned" IS NULL
      THEN CASE
        WHEN CAST("p"."score" AS DOUBLE PRECISION) < :eps
        THEN :eps
        WHEN CAST("p"."score" AS DOUBLE PRECISION) > :one_minus_eps
        THEN :one_minus_eps
        ELSE CAST("p"."score" AS DOUBLE PRECISION)
      END
    END AS "wd_p",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE PRECISION) IS NULL
        OR CAST("p"."score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      AND NOT "l"."churned" IS NULL
      THEN CAST(ROUND(CAST("p"."score" AS DOUBLE PRECISION) * :resolution) AS BIGINT)
    END AS "wd_bucket",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE PRECISION) IS NULL
        OR CAST("p"."score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      AND NOT "l"."churned" IS NULL
      THEN CAST("p"."score" AS DOUBLE PRECISION)
    END AS "wd_s",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE PRECISION) IS NULL
        OR CAST("p"."score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      AND NOT "l"."churned" IS NULL
      THEN CASE WHEN CAST("l"."churned" AS INT) <> 0 THEN 1 ELSE 0 END
    END AS "wd_y",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE PRECISION) IS NULL
        OR CAST("p"."score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      AND NOT "l"."churned" IS NULL
      THEN EXTRACT(EPOCH FROM "l"."observed_at") - EXTRACT(EPOCH FROM "p"."ts")
    END AS "wd_delay"
  FROM "analytics"."events" AS "p"
  LEFT JOIN "analytics"."labels" AS "l"
    ON "p"."id" = "l"."event_id" AND "p"."model" = "l"."model"
  WHERE
    "p"."ts" >= :start AND "p"."ts" < :end
) AS "wd_rows"
GROUP BY
  1,
  2,
  3
