-- params: r0_0='[A-Z]{2}\\d+$', r1_0='(ab|c)*\\.x'
SELECT
  COUNT(*) AS "row_count",
  COUNT(
    CASE
      WHEN NOT (
        "s" IS NULL
      )
      AND NOT (
        (REGEXP_INSTR("s", :r0_0) = 1 OR (LENGTH("s") = 0 AND "s" ~ :r0_0))
      )
      THEN 1
    END
  ) AS "f0",
  COUNT(
    CASE
      WHEN NOT (
        "s" IS NULL
      )
      AND NOT (
        (REGEXP_INSTR("s", :r1_0) = 1 OR (LENGTH("s") = 0 AND "s" ~ :r1_0))
      )
      THEN 1
    END
  ) AS "f1"
FROM "analytics"."events"
