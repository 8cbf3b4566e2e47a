-- params: bucket_seconds=3600.0, end='2026-03-02 00:00:00+00:00', end_epoch=1772409600.0, start='2026-03-01 00:00:00+00:00', start_epoch=1772323200.0, w0_0='ok', w0_1='retry', w1='shadow'
SELECT
  FLOOR(
    (
      DATE_PART(EPOCH_MICROSECOND, "ts") / 1000000 - :start_epoch
    ) / :bucket_seconds
  ) AS "bucket_index",
  COUNT(*) AS "row_count"
FROM "analytics"."events"
WHERE
  "ts" >= :start AND "ts" < :end AND "status" IN (:w0_0, :w0_1) AND "model" <> :w1
GROUP BY
  1
