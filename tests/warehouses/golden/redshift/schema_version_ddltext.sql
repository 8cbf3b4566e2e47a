-- params: (none)
SELECT COUNT(*) AS ddl_rows, MAX(d.xid) AS newest, COUNT(t.xid) AS open_rows
FROM stl_ddltext AS d
LEFT JOIN (
  SELECT DISTINCT xid FROM svv_transactions
  WHERE lockable_object_type = 'transactionid' AND lock_mode = 'ExclusiveLock' AND granted
) AS t ON t.xid = d.xid
