"""One cause, one incident: is a failure explained by something another monitor found?

A schema change on a table (a renamed column, a narrowed type) explains the failures other
monitors of that table see next on the changed columns: a drift column gone missing, a
contract check failing, a type mismatch. A stale table (freshness) explains a volume drop,
a silence or a window with too few rows on the same table (and group). Such a failure is
sent as part of the cause's incident: same aggregation key, "caused by …" in its text, and
@-mentions only for owners the cause did not notify already. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from watchdog.models import Cause, CheckResult, Group

#: Findings a table-level schema change explains whatever column they name.
TABLE_GONE = frozenset({"TABLE_NOT_FOUND", "TABLE_MISSING", "TABLE_EMPTY"})
#: Findings a stale table explains: too little data downstream of it.
STARVED = frozenset({"VOLUME_BELOW_BASELINE", "VOLUME_SUSTAINED_DROP", "ZERO_SUCCESSES",
                     "PREDICTIONS_SILENT",
                     "ROWS_BELOW_MIN", "TOO_FEW_ROWS", "ROW_COUNT_OUT_OF_BOUNDS",
                     "LABEL_COVERAGE_LOW"})


def explaining(result: CheckResult, group: Group, causes: Sequence[Cause],
               now: datetime) -> list[Cause]:
    """The causes (of other monitors, seen no later than ``now``) that each explain every
    problem in ``result``, newest first; none when some problem is unexplained."""
    if not result.problems():
        return []
    return [cause for cause in sorted(causes, key=lambda c: c.at, reverse=True)
            if cause.monitor_id != result.monitor_id and cause.at <= now < cause.expires
            and (_changed(result, cause) if cause.kind == "schema_change"
                 else _starved(result, group, cause))]


def _changed(result: CheckResult, cause: Cause) -> bool:
    columns = {c.lower() for c in cause.columns}
    return all(f.reason in TABLE_GONE or (f.about and f.about.lower() in columns)
               for f in result.problems())


def _starved(result: CheckResult, group: Group, cause: Cause) -> bool:
    if cause.group and group and not set(cause.group) & set(group):
        return False  # another model's pipeline went stale
    return all(f.reason in STARVED for f in result.problems())


def caused_by(cause: Cause) -> str:
    """The event's first line: what this failure follows from, in one read."""
    when = f"{cause.at:%Y-%m-%d %H:%M} UTC"
    if cause.kind == "schema_change":
        who = f" by `{cause.by}`" if cause.by else ""
        what = f" (`{cause.statement}`)" if cause.statement else ""
        return (f"**Caused by the schema change** on `{cause.table}` at {when}{who}{what}, "
                f"reported as “{cause.title}” (monitor `{cause.monitor_id}`).")
    return (f"**Caused by `{cause.table}` going stale** (seen at {when} by monitor "
            f"`{cause.monitor_id}`): “{cause.title}”.")
