-- params: r1_0=0, r1_1=1, r2_0='ok', r2_1='retry', r3_0=1, r3_1=40, w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  COUNT(*) AS "row_count",
  COUNT(
    CASE
      WHEN "score" IS NULL
      OR CAST("score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      THEN 1
    END
  ) AS "f0",
  COUNT(
    CASE
      WHEN NOT (
        "score" IS NULL
        OR CAST("score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
      )
      AND NOT (
        "score" >= :r1_0 AND "score" < :r1_1
      )
      THEN 1
    END
  ) AS "f1",
  COUNT(
    CASE
      WHEN NOT (
        "status" IS NULL
      ) AND NOT (
        "status" IN (:r2_0, :r2_1)
      )
      THEN 1
    END
  ) AS "f2",
  COUNT(
    CASE
      WHEN NOT (
        "model" IS NULL
      )
      AND NOT (
        LENGTH("model") >= :r3_0 AND LENGTH("model") <= :r3_1
      )
      THEN 1
    END
  ) AS "f3",
  COUNT("id") - COUNT(DISTINCT "id") AS "f4",
  COUNT(CASE WHEN NOT (
    "model" IS NULL
  ) AND NOT (
    "ts" IS NULL
  ) THEN 1 END) - COUNT(
    DISTINCT CASE
      WHEN NOT (
        "model" IS NULL
      ) AND NOT (
        "ts" IS NULL
      )
      THEN REPLACE(
        REPLACE(CAST("model" AS VARCHAR), CHR(30), CHR(30) || CHR(30)),
        CHR(31),
        CHR(30) || CHR(31)
      ) || CHR(31) || REPLACE(
        REPLACE(CAST("ts" AS VARCHAR), CHR(30), CHR(30) || CHR(30)),
        CHR(31),
        CHR(30) || CHR(31)
      ) || CHR(31)
    END
  ) AS "f5"
FROM "analytics"."events"
WHERE
  "ts" >= :w0
