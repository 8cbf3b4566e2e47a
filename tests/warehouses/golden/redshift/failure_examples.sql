-- params: r1_0=0, r1_1=1, r2_0='ok', r2_1='retry', r3_0=1, r3_1=40, w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  "rule",
  "value"
FROM (
  SELECT
    1 AS "rule",
    CAST("score" AS VARCHAR) AS "value"
  FROM "analytics"."events"
  WHERE
    NOT (
      "score" IS NULL
      OR CAST("score" AS DOUBLE PRECISION) = CAST('NaN' AS DOUBLE PRECISION)
    )
    AND NOT (
      "score" >= :r1_0 AND "score" < :r1_1
    )
    AND "ts" >= :w0
  LIMIT 5
) AS "e1"
UNION ALL
SELECT
  "rule",
  "value"
FROM (
  SELECT
    2 AS "rule",
    CAST("status" AS VARCHAR) AS "value"
  FROM "analytics"."events"
  WHERE
    NOT (
      "status" IS NULL
    )
    AND NOT (
      "status" IN (:r2_0, :r2_1)
    )
    AND "ts" >= :w0
  LIMIT 5
) AS "e2"
UNION ALL
SELECT
  "rule",
  "value"
FROM (
  SELECT
    3 AS "rule",
    CAST("model" AS VARCHAR) AS "value"
  FROM "analytics"."events"
  WHERE
    NOT (
      "model" IS NULL
    )
    AND NOT (
      LENGTH("model") >= :r3_0 AND LENGTH("model") <= :r3_1
    )
    AND "ts" >= :w0
  LIMIT 5
) AS "e3"
UNION ALL
SELECT
  "rule",
  "value"
FROM (
  SELECT
    4 AS "rule",
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
  LIMIT 5
) AS "e4"
UNION ALL
SELECT
  "rule",
  "value"
FROM (
  SELECT
    5 AS "rule",
    CAST("model" AS VARCHAR) || ', ' || CAST("ts" AS VARCHAR) AS "value"
  FROM "analytics"."events"
  WHERE
    (
      NOT (
        "model" IS NULL
      ) AND NOT (
        "ts" IS NULL
      )
    )
    AND "ts" >= :w0
  GROUP BY
    "model",
    "ts"
  HAVING
    COUNT(*) > 1
  LIMIT 5
) AS "e5"
