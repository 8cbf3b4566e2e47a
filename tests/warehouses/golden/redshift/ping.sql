-- params: (none)
SELECT 1
