-- params: r1_0=0, r1_1=1, r2_0='ok', r2_1='retry', r3_0=1, r3_1=40, w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  *,
  CASE
    WHEN "scan"."f1" > 0
    THEN ARRAY(SELECT
      CAST("score" AS VARCHAR) AS "value"
    FROM "analytics"."events"
    WHERE
      (
        NOT (
          "score" IS NULL
          OR CAST("score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
        )
        AND NOT (
          "score" >= :r1_0 AND "score" < :r1_1
        )
      )
      AND "ts" >= :w0
    LIMIT 5)
  END AS "x1",
  CASE
    WHEN "scan"."f2" > 0
    THEN ARRAY(SELECT
      CAST("status" AS VARCHAR) AS "value"
    FROM "analytics"."events"
    WHERE
      (
        NOT (
          "status" IS NULL
        ) AND NOT (
          "status" IN (:r2_0, :r2_1)
        )
      )
      AND "ts" >= :w0
    LIMIT 5)
  END AS "x2",
  CASE
    WHEN "scan"."f3" > 0
    THEN ARRAY(SELECT
      CAST("model" AS VARCHAR) AS "value"
    FROM "analytics"."events"
    WHERE
      (
        NOT (
          "model" IS NULL
        )
        AND NOT (
          LENGTH("model") >= :r3_0 AND LENGTH("model") <= :r3_1
        )
      )
      AND "ts" >= :w0
    LIMIT 5)
  END AS "x3",
  CASE
    WHEN "scan"."f4" > 0
    THEN ARRAY(SELECT
      CAST("id" AS VARCHAR) AS "value"
    FROM "analytics"."events"
    WHERE
      NOT (
        "id" IS NULL
      ) AND "ts" >= :w0
    GROUP BY
      "id"
    HAVING
      COUNT(*) > 1
    ORDER BY
      "id"
    LIMIT 5)
  END AS "x4"
FROM (
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
        THEN ROW("model", "ts")
      END
    ) AS "f5"
  FROM "analytics"."events"
  WHERE
    "ts" >= :w0
) AS "scan"
