-- params: w0=TimeBind(column='ts', op='>=', at=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc))
SELECT
  MIN(
    CASE
      WHEN NOT (
        `score` IS NULL OR IS_NAN(CAST(`score` AS FLOAT64))
      )
      THEN `score`
    END
  ),
  MAX(
    CASE
      WHEN NOT (
        `score` IS NULL OR IS_NAN(CAST(`score` AS FLOAT64))
      )
      THEN `score`
    END
  ),
  MIN(
    CASE WHEN NOT (
      `age` IS NULL OR IS_NAN(CAST(`age` AS FLOAT64))
    ) THEN `age` END
  ),
  MAX(
    CASE WHEN NOT (
      `age` IS NULL OR IS_NAN(CAST(`age` AS FLOAT64))
    ) THEN `age` END
  )
FROM `test-proj`.`analytics`.`events`
WHERE
  `ts` >= @w0
