-- params: limit=5000, since=41
SELECT q.query_id AS seq, q.start_time, u.usename, q.query_type, q.query_text
FROM sys_query_history AS q
LEFT JOIN pg_user AS u ON u.usesysid = q.user_id
WHERE q.query_type = 'DDL' AND q.status = 'success' AND q.query_id > :since
ORDER BY q.query_id
LIMIT :limit
