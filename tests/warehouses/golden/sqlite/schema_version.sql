-- params: (none)
PRAGMA schema_version
