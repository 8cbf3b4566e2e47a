-- params: end=datetime.datetime(2026, 3, 4, 0, 0, tzinfo=datetime.timezone.utc), end_epoch=1772582400.0, eps=1e-15, one_minus_eps=0.999999999999999, resolution=10000, start=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc), start_epoch=1772323200.0, threshold=0.4, window_seconds=86400.0
SELECT
  "wd_window",
  "wd_g0",
  "wd_bucket",
  COUNT(*) AS "predictions",
  COUNT("wd_y") AS "labelled",
  count_if("wd_s" >= :threshold AND "wd_y" = 1) AS "tp",
  count_if("wd_s" >= :threshold AND "wd_y" = 0) AS "fp",
  count_if("wd_s" < :threshold AND "wd_y" = 1) AS "fn",
  count_if("wd_y" = 1) AS "positives",
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
    CAST(FLOOR((
      epoch("p"."ts") - :start_epoch
    ) / :window_seconds) AS BIGINT) AS "wd_window",
    "p"."model version" AS "wd_g0",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      AND NOT "l"."churned" IS NULL
      THEN CASE
        WHEN CAST("p"."score" AS DOUBLE) < :eps
        THEN :eps
        WHEN CAST("p"."score" AS DOUBLE) > :one_minus_eps
        THEN :one_minus_eps
        ELSE CAST("p"."score" AS DOUBLE)
      END
    END AS "wd_p",
    CASE
      WHEN NOT (
        CAST("p"."score" AS DOUBLE) IS NULL OR ISNAN(CAST("p"."score" AS DOUBLE))
      )
      AND NOT "l"."churned" IS NULL
      THEN CAST(ROUND(CAST("p"."score" AS DOUBLE) * :resolution) AS BIGINT)
    END AS "wd_bucket",
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
