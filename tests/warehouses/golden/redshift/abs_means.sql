-- params: w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  AVG(
    CASE
      WHEN NOT (
        "shap_age" IS NULL
        OR CAST("shap_age" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      THEN ABS("shap_age")
    END
  ),
  AVG(
    CASE
      WHEN NOT (
        "shap_plan" IS NULL
        OR CAST("shap_plan" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      THEN ABS("shap_plan")
    END
  )
FROM "analytics"."events"
WHERE
  "ts" >= :w0
