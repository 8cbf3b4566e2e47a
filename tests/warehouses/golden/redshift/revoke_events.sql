-- params: limit=5000, since=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT q.query_id AS seq, q.start_time, u.usename, q.query_type, q.query_text
FROM sys_query_history AS q
LEFT JOIN pg_user AS u ON u.usesysid = q.user_id
WHERE q.status = 'success' AND q.start_time >= :since
  AND q.query_type NOT IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'COPY', 'UNLOAD', 'CTAS')
  AND LOWER(q.query_text) LIKE '%revoke%'
ORDER BY q.start_time DESC, q.query_id DESC
LIMIT :limit
