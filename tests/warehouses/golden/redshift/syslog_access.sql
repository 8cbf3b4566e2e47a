-- params: (none)
SELECT superuser, syslog_access
FROM svv_user_info
WHERE user_name = current_user
