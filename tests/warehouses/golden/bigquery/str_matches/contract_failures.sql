-- params: r0_0='^(?:[A-Z]{2}\\d+$)', r1_0='^(?:(ab|c)*\\.x)'
SELECT
  COUNT(*) AS `row_count`,
  COUNT(
    CASE
      WHEN NOT (
        `s` IS NULL
      ) AND NOT (
        REGEXP_CONTAINS(`s`, @r0_0)
      )
      THEN 1
    END
  ) AS `f0`,
  COUNT(
    CASE
      WHEN NOT (
        `s` IS NULL
      ) AND NOT (
        REGEXP_CONTAINS(`s`, @r1_0)
      )
      THEN 1
    END
  ) AS `f1`
FROM `test-proj`.`analytics`.`events`
