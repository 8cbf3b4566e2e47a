"""Parsing SQL that someone else wrote (audit-log statements), without echoing it to logs.

sqlglot logs a WARNING holding the statement's text whenever it falls back to an unparsed
Command ("'CREATE USER MAPPING ... password ...' contains unsupported syntax"). An audit
log's statements are not watchdog's to log: they can carry credentials (a stage's keys, a
user mapping's password). The filter below drops those echoes from the ``sqlglot`` logger;
statements reach events only shortened and with their literals masked (``schema_audit``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from watchdog.lazy import lazy

if TYPE_CHECKING:
    import sqlglot
    from sqlglot import exp
else:  # imported on the first parse: a poll with no audit rows never needs it
    sqlglot = lazy("sqlglot")


class _NoStatementEcho(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "contains unsupported syntax" not in str(record.msg)


_FILTER = _NoStatementEcho()
logging.getLogger("sqlglot").addFilter(_FILTER)


def parse(statement: str, dialect: str | None) -> tuple[exp.Expr | None, ...]:
    """Every statement in ``statement`` parsed (an unparsable text is one None)."""
    try:
        return tuple(sqlglot.parse(statement, read=dialect))
    except sqlglot.errors.SqlglotError:
        return (None,)
