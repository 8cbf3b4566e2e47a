-- params: r1_0=0, r1_1=1, r1_2=0, r1_3=1, r2_0='ok', r2_1='retry', r2_2='ok', r2_3='retry', r3_0=1, r3_1=40, r3_2=1, r3_3=40, w0=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT
  *
FROM (
  SELECT
    COUNT(*) AS "row_count",
    COUNT(CASE WHEN "score" IS NULL OR ISNAN(CAST("score" AS DOUBLE)) THEN 1 END) AS "f0",
    COUNT(
      CASE
        WHEN NOT (
          "score" IS NULL OR ISNAN(CAST("score" AS DOUBLE))
        )
        AND NOT (
          "score" >= :r1_0 AND "score" < :r1_1
        )
        THEN 1
      END
    ) AS "f1",
    LIST_TRANSFORM(
      MIN("score", 5) FILTER(WHERE
        NOT (
          "score" IS NULL OR ISNAN(CAST("score" AS DOUBLE))
        )
        AND NOT (
          "score" >= :r1_2 AND "score" < :r1_3
        )),
      LAMBDA "x" : CAST("x" AS TEXT)
    ) AS "x1",
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
    LIST_TRANSFORM(
      MIN("status", 5) FILTER(WHERE
        NOT (
          "status" IS NULL
        ) AND NOT (
          "status" IN (:r2_2, :r2_3)
        )),
      LAMBDA "x" : CAST("x" AS TEXT)
    ) AS "x2",
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
    LIST_TRANSFORM(
      MIN("model", 5) FILTER(WHERE
        NOT (
          "model" IS NULL
        )
        AND NOT (
          LENGTH("model") >= :r3_2 AND LENGTH("model") <= :r3_3
        )),
      LAMBDA "x" : CAST("x" AS TEXT)
    ) AS "x3",
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
CROSS JOIN (
  SELECT
    COALESCE(SUM("n") - COUNT(*), 0) AS "f4",
    LIST_TRANSFORM(MIN("k", 5) FILTER(WHERE
      "n" > 1), LAMBDA "x" : CAST("x" AS TEXT)) AS "x4"
  FROM (
    SELECT
      "id" AS "k",
      COUNT(*) AS "n"
    FROM "analytics"."events"
    WHERE
      NOT (
        "id" IS NULL
      ) AND "ts" >= :w0
    GROUP BY
      "id"
  ) AS "g4"
) AS "u4"
