-- params: (none)
SELECT COUNT(*) AS ddl_rows, MAX(q.query_id) AS newest, COUNT(t.xid) AS open_rows
FROM sys_query_history AS q
LEFT JOIN (
  SELECT DISTINCT xid FROM svv_transactions
  WHERE lockable_object_type = 'transactionid' AND lock_mode = 'ExclusiveLock' AND granted
) AS t ON t.xid = q.transaction_id
WHERE q.query_type = 'DDL' AND q.status = 'success'
