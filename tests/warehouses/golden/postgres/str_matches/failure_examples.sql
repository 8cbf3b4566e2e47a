-- params: r0_0='^(?:[A-Z]{2}\\d+$)', r1_0='^(?:(ab|c)*\\.x)'
SELECT
  "rule",
  "value"
FROM (
  SELECT
    0 AS "rule",
    CAST("s" AS VARCHAR) AS "value"
  FROM "analytics"."events"
  WHERE
    NOT (
      "s" IS NULL
    ) AND NOT (
      "s" ~ :r0_0
    )
  LIMIT 5
) AS "e0"
UNION ALL
SELECT
  "rule",
  "value"
FROM (
  SELECT
    1 AS "rule",
    CAST("s" AS VARCHAR) AS "value"
  FROM "analytics"."events"
  WHERE
    NOT (
      "s" IS NULL
    ) AND NOT (
      "s" ~ :r1_0
    )
  LIMIT 5
) AS "e1"
