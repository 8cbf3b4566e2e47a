-- params: w0='2026-03-01 00:00:00'
SELECT
  AVG(CASE WHEN NOT (
    `shap_age` IS NULL OR FALSE
  ) THEN ABS(`shap_age`) END),
  AVG(CASE WHEN NOT (
    `shap_plan` IS NULL OR FALSE
  ) THEN ABS(`shap_plan`) END)
FROM `analytics`.`events`
WHERE
  `ts` >= :w0
