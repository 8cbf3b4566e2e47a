-- params: w0=TimeBind(column='ts', op='>=', at=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc))
SELECT
  AVG(
    CASE
      WHEN NOT (
        `shap_age` IS NULL OR IS_NAN(CAST(`shap_age` AS FLOAT64))
      )
      THEN ABS(`shap_age`)
    END
  ),
  AVG(
    CASE
      WHEN NOT (
        `shap_plan` IS NULL OR IS_NAN(CAST(`shap_plan` AS FLOAT64))
      )
      THEN ABS(`shap_plan`)
    END
  )
FROM `test-proj`.`analytics`.`events`
WHERE
  `ts` >= @w0
