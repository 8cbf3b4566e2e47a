-- params: limit=5000, since=41
SELECT d.xid AS seq, d.starttime, u.usename, d.sequence, d.text
FROM stl_ddltext AS d
LEFT JOIN pg_user AS u ON u.usesysid = d.userid
WHERE d.xid IN (
  SELECT DISTINCT xid FROM stl_ddltext WHERE xid > :since
  ORDER BY xid LIMIT :limit
)
ORDER BY d.xid, d.starttime, d.sequence
