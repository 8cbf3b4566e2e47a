-- params: limit=5000, since=datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
SELECT t.xid AS seq, t.starttime, u.usename, t.sequence, t.text
FROM stl_utilitytext AS t
LEFT JOIN pg_user AS u ON u.usesysid = t.userid
JOIN (
  SELECT xid, pid, starttime FROM stl_utilitytext
  WHERE sequence = 0 AND starttime >= :since
    AND LOWER(LTRIM(text)) LIKE 'revoke%'
  ORDER BY starttime DESC LIMIT :limit
) AS r ON r.xid = t.xid AND r.pid = t.pid AND r.starttime = t.starttime
ORDER BY t.starttime, t.xid, t.pid, t.sequence
