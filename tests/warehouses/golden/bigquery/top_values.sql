-- params: limit=21, w0=TimeBind(column='ts', op='>=', at=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc))
SELECT
  `value`,
  `row_count`,
  `total_rows`
FROM (
  SELECT
    CAST(`plan` AS STRING) AS `value`,
    COUNT(*) AS `row_count`,
    SUM(COUNT(*)) OVER () AS `total_rows`,
    ROW_NUMBER() OVER (
      ORDER BY CASE WHEN `plan` IS NULL THEN 0 ELSE 1 END, COUNT(*) DESC, CAST(`plan` AS STRING)
    ) AS `position`
  FROM `test-proj`.`analytics`.`events`
  WHERE
    `ts` >= @w0
  GROUP BY
    `plan`
) AS `ranked`
WHERE
  `position` <= @limit
ORDER BY
  `position`
