-- params: k0_c=0.5, k0_h=10000.0, k0_m=10000.0, k0_s=0.25, k1_c=40.0, k1_h=50.0, k1_m=50.0, k1_s=12.0, w0=TimeBind(column='ts', op='>=', at=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc))
SELECT
  0 AS `feature`,
  CASE
    WHEN `score` IS NULL OR IS_NAN(CAST(`score` AS FLOAT64))
    THEN -1
    ELSE CAST(FLOOR(
      @k0_m * (
        SIGN(`score` - @k0_c) - SIGN(`score` - @k0_c) * @k0_s / (
          @k0_s + ABS(`score` - @k0_c)
        )
      ) + @k0_h
    ) AS INT64)
  END AS `bucket`,
  COUNT(*) AS `row_count`,
  SUM(`score` - @k0_c) AS `s1`,
  SUM((
    `score` - @k0_c
  ) * (
    `score` - @k0_c
  )) AS `s2`
FROM `test-proj`.`analytics`.`events`
WHERE
  `ts` >= @w0
GROUP BY
  2
UNION ALL
SELECT
  1 AS `feature`,
  CASE
    WHEN `age` IS NULL OR IS_NAN(CAST(`age` AS FLOAT64))
    THEN -1
    ELSE CAST(FLOOR(
      @k1_m * (
        SIGN(`age` - @k1_c) - SIGN(`age` - @k1_c) * @k1_s / (
          @k1_s + ABS(`age` - @k1_c)
        )
      ) + @k1_h
    ) AS INT64)
  END AS `bucket`,
  COUNT(*) AS `row_count`,
  SUM(`age` - @k1_c) AS `s1`,
  SUM((
    `age` - @k1_c
  ) * (
    `age` - @k1_c
  )) AS `s2`
FROM `test-proj`.`analytics`.`events`
WHERE
  `ts` >= @w0
GROUP BY
  2
