-- params: w0='2026-03-01 00:00:00+00:00'
SELECT
  MIN(
    CASE
      WHEN NOT (
        "score" IS NULL OR CAST("score" AS DOUBLE) = CAST('NaN' AS DOUBLE)
      )
      THEN "score"
    END
  ),
  MAX(
    CASE
      WHEN NOT (
        "score" IS NULL OR CAST("score" AS DOUBLE) = CAST('NaN' AS DOUBLE)
      )
      THEN "score"
    END
  ),
  MIN(
    CASE
      WHEN NOT (
        "age" IS NULL OR CAST("age" AS DOUBLE) = CAST('NaN' AS DOUBLE)
      )
      THEN "age"
    END
  ),
  MAX(
    CASE
      WHEN NOT (
        "age" IS NULL OR CAST("age" AS DOUBLE) = CAST('NaN' AS DOUBLE)
      )
      THEN "age"
    END
  )
FROM "analytics"."events"
WHERE
  "ts" >= :w0
