-- params: limit=5000, since=41
SELECT seq, at, username, command_tag, object_type, object_identity,
CASE WHEN statement = lag(statement) OVER (ORDER BY seq) THEN NULL ELSE statement END AS statement,
COALESCE(statement = lag(statement) OVER (ORDER BY seq), FALSE) AS repeated
FROM watchdog_audit.ddl_log
WHERE seq > :since
ORDER BY seq
LIMIT :limit
