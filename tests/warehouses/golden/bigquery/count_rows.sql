-- params: bucket_seconds=3600.0, end=TimeBind(column='ts', op='<', at=datetime.datetime(2026, 3, 2, 0, 0, tzinfo=datetime.timezone.utc)), end_epoch=1772409600.0, start=TimeBind(column='ts', op='>=', at=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)), start_epoch=1772323200.0, w0_0='ok', w0_1='retry', w1='shadow'
SELECT
  FLOOR(
    (
      UNIX_MICROS(CAST(`ts` AS TIMESTAMP)) / 1000000 - @start_epoch
    ) / @bucket_seconds
  ) AS `bucket_index`,
  COUNT(*) AS `row_count`
FROM `test-proj`.`analytics`.`events`
WHERE
  `ts` >= @start AND `ts` < @end AND `status` IN (@w0_0, @w0_1) AND `model` <> @w1
GROUP BY
  1
