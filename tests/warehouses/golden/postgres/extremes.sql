-- params: w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  MIN(
    CASE
      WHEN NOT (
        "score" IS NULL
        OR CAST("score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      THEN "score"
    END
  ),
  MAX(
    CASE
      WHEN NOT (
        "score" IS NULL
        OR CAST("score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      THEN "score"
    END
  ),
  MIN(
    CASE
      WHEN NOT (
        "age" IS NULL
        OR CAST("age" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      THEN "age"
    END
  ),
  MAX(
    CASE
      WHEN NOT (
        "age" IS NULL
        OR CAST("age" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      THEN "age"
    END
  )
FROM "analytics"."events"
WHERE
  "ts" >= :w0
