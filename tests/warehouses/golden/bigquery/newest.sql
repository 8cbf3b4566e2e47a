-- params: w0=TimeBind(column='ts', op='>=', at=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc))
SELECT
  MAX(`ts`) AS `newest`
FROM `test-proj`.`analytics`.`events`
WHERE
  `ts` >= @w0
