-- params: w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  MAX("ts") AS "newest"
FROM "analytics"."events"
WHERE
  "ts" >= :w0
