-- params: (none)
SELECT n FROM watchdog_audit.ddl_version
