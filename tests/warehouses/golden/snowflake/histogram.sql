-- params: edge_0=0.0, edge_1=0.25, edge_2=0.5, edge_3=1.0, w0='churn'
SELECT
  CASE
    WHEN "score" IS NULL OR CAST("score" AS DOUBLE) = CAST('NaN' AS DOUBLE)
    THEN -2
    WHEN "score" < :edge_0
    THEN -1
    WHEN "score" < :edge_1
    THEN 0
    WHEN "score" < :edge_2
    THEN 1
    WHEN "score" <= :edge_3
    THEN 2
    ELSE 3
  END AS "bin",
  COUNT(*) AS "row_count"
FROM "analytics"."events"
WHERE
  "model" = :w0
GROUP BY
  1
