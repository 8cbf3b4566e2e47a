-- params: r0_0='^(?:[A-Z]{2}\\d+$)', r1_0='^(?:(ab|c)*\\.x)'
SELECT
  `rule`,
  `value`
FROM (
  SELECT
    0 AS `rule`,
    CAST(`s` AS STRING) AS `value`
  FROM `test-proj`.`analytics`.`events`
  WHERE
    NOT (
      `s` IS NULL
    ) AND NOT (
      REGEXP_CONTAINS(`s`, @r0_0)
    )
  LIMIT 5
) AS `e0`
UNION ALL
SELECT
  `rule`,
  `value`
FROM (
  SELECT
    1 AS `rule`,
    CAST(`s` AS STRING) AS `value`
  FROM `test-proj`.`analytics`.`events`
  WHERE
    NOT (
      `s` IS NULL
    ) AND NOT (
      REGEXP_CONTAINS(`s`, @r1_0)
    )
  LIMIT 5
) AS `e1`
