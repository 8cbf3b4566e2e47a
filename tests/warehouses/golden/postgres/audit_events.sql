-- params: limit=5000, since=41
SELECT seq, at, username, command_tag, object_type, object_identity, statement
FROM watchdog_audit.ddl_log
WHERE seq > :since
ORDER BY seq
LIMIT :limit
