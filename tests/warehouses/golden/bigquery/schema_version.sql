-- params: (none)
SELECT
  TO_HEX(
    MD5(
      STRING_AGG(
        CONCAT(dataset_id, '.', table_id, '@', CAST(last_modified_time AS STRING)), ','
        ORDER BY
          dataset_id,
          table_id
      )
    )
  ) AS token
FROM (
  SELECT
    dataset_id,
    table_id,
    last_modified_time
  FROM `test-proj`.`analytics`.__TABLES__
  UNION ALL
  SELECT
    dataset_id,
    table_id,
    last_modified_time
  FROM `other-proj`.`ml`.__TABLES__
) AS probed
