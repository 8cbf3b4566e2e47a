"""Who revoked a privilege on Redshift: REVOKE statements from its query history.

The DDL views the schema check reads leave GRANT and REVOKE out, so the access check reads
its own: SYS_QUERY_HISTORY (serverless and provisioned;
https://docs.aws.amazon.com/redshift/latest/dg/SYS_QUERY_HISTORY.html, ``query_text`` cut
at 4,000 characters) or, with ``audit_source: stl_ddltext``, STL_UTILITYTEXT (provisioned
only; GRANT and REVOKE are among the statements it captures, in 200-character chunks
numbered by ``sequence``: https://docs.aws.amazon.com/redshift/latest/dg/r_STL_UTILITYTEXT.html).
Which ``query_type`` SYS_QUERY_HISTORY gives a REVOKE is not documented (its list: SELECT,
INSERT, UPDATE, UNLOAD, COPY, COMMAND, DDL, UTILITY, CTAS, OTHER), so rows are picked by
their text, the DML and load types left out; ``revokes.py`` then parses each statement and
drops what is not a REVOKE of a privilege. A regular user sees only its own rows in both
views: the login needs ``SYSLOG ACCESS UNRESTRICTED`` to see other users' REVOKEs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from watchdog.models import AuditEvent
from watchdog.warehouses.base import as_utc

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import SqlWarehouse

QUERIES: dict[str, str] = {
    "revoke_events": (
        "SELECT q.query_id AS seq, q.start_time, u.usename, q.query_type, q.query_text\n"
        "FROM sys_query_history AS q\nLEFT JOIN pg_user AS u ON u.usesysid = q.user_id\n"
        "WHERE q.status = 'success' AND q.start_time >= :since\n"
        "  AND q.query_type NOT IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'COPY', 'UNLOAD',"
        " 'CTAS')\n"
        "  AND LOWER(q.query_text) LIKE '%revoke%'\n"
        "ORDER BY q.start_time DESC, q.query_id DESC\nLIMIT :limit"
    ),
    # a statement is its chunks of one (xid, pid, starttime); its first chunk says REVOKE
    "revoke_utilitytext": (
        "SELECT t.xid AS seq, t.starttime, u.usename, t.sequence, t.text\n"
        "FROM stl_utilitytext AS t\nLEFT JOIN pg_user AS u ON u.usesysid = t.userid\n"
        "JOIN (\n  SELECT xid, pid, starttime FROM stl_utilitytext\n"
        "  WHERE sequence = 0 AND starttime >= :since\n"
        "    AND LOWER(LTRIM(text)) LIKE 'revoke%'\n"
        "  ORDER BY starttime DESC LIMIT :limit\n"
        ") AS r ON r.xid = t.xid AND r.pid = t.pid AND r.starttime = t.starttime\n"
        "ORDER BY t.starttime, t.xid, t.pid, t.sequence"
    ),
}


def build_since(wh: SqlWarehouse, since: datetime,
                limit: int = 5000) -> tuple[dict[str, str], dict[str, Any]]:
    """Binds of a time-bounded read of the query history: from ``since``, at most ``limit``."""
    return {}, {"since": since, "limit": int(limit)}


def revoke_events(wh: SqlWarehouse, source: str, since: datetime,
                  limit: int) -> list[AuditEvent]:
    """The newest ``limit`` REVOKE statements that started at ``since`` or later, oldest
    first; ``source`` is the adapter's ``audit_source``."""
    at = as_utc(since).replace(tzinfo=None)  # the views' timestamps are naive UTC
    if source == "sys_query_history":
        rows = wh._rows(wh.render("revoke_events", since=at, limit=limit))
        return [_event(seq, when, user, text) for seq, when, user, _, text in reversed(rows)]
    statements: dict[tuple[Any, ...], list[Any]] = {}
    for seq, when, user, _sequence, text in wh._rows(
            wh.render("revoke_utilitytext", since=at, limit=limit)):
        entry = statements.setdefault((seq, when), [seq, when, user, ""])
        entry[3] += str(text or "")
    return [_event(seq, when, user, text) for seq, when, user, text in statements.values()]


def _event(seq: Any, when: Any, user: Any, text: Any) -> AuditEvent:
    return AuditEvent(seq=int(seq), at=as_utc(when), user=str(user or "").strip(),
                      command="REVOKE", statement=str(text or "").strip())
