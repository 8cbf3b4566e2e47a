-- params: w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  MIN(
    CASE
      WHEN NOT (
        "score" IS NULL OR ISNAN(CAST("score" AS DOUBLE))
      )
      THEN "score"
    END
  ),
  MAX(
    CASE
      WHEN NOT (
        "score" IS NULL OR ISNAN(CAST("score" AS DOUBLE))
      )
      THEN "score"
    END
  ),
  MIN(CASE WHEN NOT (
    "age" IS NULL OR ISNAN(CAST("age" AS DOUBLE))
  ) THEN "age" END),
  MAX(CASE WHEN NOT (
    "age" IS NULL OR ISNAN(CAST("age" AS DOUBLE))
  ) THEN "age" END)
FROM "analytics"."events"
WHERE
  "ts" >= :w0
