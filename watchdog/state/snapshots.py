"""The schema-snapshot part of the state store: the columns of each watched table, as last
seen by a schema monitor, with the version token that lets a poll skip unchanged tables.

A snapshot's columns are stored as rows ``[name, position, data_type, type_family,
nullable]`` (:data:`FIELDS`); snapshots written before as one object per column are read
too. Rows decode ~3× faster than objects, and the many tables that share a column (the
same name, type and place) share one :class:`Column` when read: a migration touching
10,000 tables of 30 columns read 300,000 snapshot columns."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watchdog.models import Column
from watchdog.state import tables as t

_CHUNK = 500  # rows per multi-row INSERT / IN (...) list


class SnapshotMixin:
    """Snapshot methods of :class:`watchdog.state.store.Store` (which provides ``_tx``)."""

    def _tx(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def save_snapshot(
        self, monitor_id: str, table: str, columns: Sequence[Column], taken_at: datetime,
        version_token: str | None = None,
    ) -> None:
        """Remember the columns of ``table`` as seen by ``monitor_id`` at ``taken_at``."""
        self.save_snapshots(monitor_id, {table: columns}, taken_at, {table: version_token}
                            if version_token is not None else None)

    def latest_snapshot(
        self, monitor_id: str, table: str
    ) -> tuple[datetime, list[Column], str | None] | None:
        """``(taken_at, columns, version_token)`` of the newest snapshot of ``table``, or None."""
        c = t.schema_snapshots.c
        stmt = (
            sa.select(c.taken_at, c.columns, c.version_token)
            .where(c.monitor_id == monitor_id, c.table_name == table)
            .order_by(c.taken_at.desc(), c.id.desc())
            .limit(1)
        )
        with self._tx() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return row.taken_at, _columns(row.columns, {}), row.version_token

    def save_snapshots(
        self, monitor_id: str, tables: Mapping[str, Sequence[Column]], taken_at: datetime,
        tokens: Mapping[str, str | None] | None = None,
    ) -> None:
        """:meth:`save_snapshot` for many tables in one transaction; ``tokens`` per table."""
        with self._tx(write=True) as conn:
            write_snapshots(conn, monitor_id, tables, taken_at, tokens)

    def _newest_snapshots(self, monitor_id: str, tables: Sequence[str] | None = None) -> Any:
        """Ids of the newest snapshot per table (of ``tables``, if given): the last saved
        (they are saved in time order). The tables go inside the subquery: outside it,
        SQLite grouped every table of the monitor again for each chunk of 500 (0.3-0.8 s
        of reading 10,000 snapshots; inside, 0.03 s)."""
        c = t.schema_snapshots.c
        stmt = sa.select(sa.func.max(c.id)).where(c.monitor_id == monitor_id)
        if tables is not None:
            stmt = stmt.where(c.table_name.in_(tables))
        return stmt.group_by(c.table_name).scalar_subquery()

    def snapshot_tokens(self, monitor_id: str) -> dict[str, str | None]:
        """``{table: version_token}`` of the newest snapshot of every table, columns unread."""
        c = t.schema_snapshots.c
        stmt = sa.select(c.table_name, c.version_token).where(
            c.id.in_(self._newest_snapshots(monitor_id)))
        with self._tx() as conn:
            return {row.table_name: row.version_token for row in conn.execute(stmt)}

    def latest_snapshots(
        self, monitor_id: str, tables: Sequence[str] | None = None
    ) -> dict[str, list[Column]]:
        """The newest snapshot of each of ``tables`` (every table ``monitor_id`` has seen
        when None), in one query per 500 tables."""
        c = t.schema_snapshots.c
        chunks = [None] if tables is None else [
            list(tables[i : i + _CHUNK]) for i in range(0, len(tables), _CHUNK)]
        out: dict[str, list[Column]] = {}
        shared: dict[tuple[Any, ...], Column] = {}
        # the stored text, decoded once per distinct text: tables alike store the same
        decoded: dict[str, list[Column]] = {}
        with self._tx() as conn:
            for chunk in chunks:
                query = sa.select(c.table_name, sa.cast(c.columns, sa.Text)).where(
                    c.id.in_(self._newest_snapshots(monitor_id, chunk)))
                for table, text in conn.execute(query):
                    columns = decoded.get(text)
                    if columns is None:
                        columns = decoded[text] = _columns(json.loads(text), shared)
                    out[table] = list(columns)
        return out


def write_snapshots(
    conn: Connection, monitor_id: str, tables: Mapping[str, Sequence[Column]],
    taken_at: datetime, tokens: Mapping[str, str | None] | None = None,
) -> None:
    """Insert one snapshot per table on ``conn`` (inside the caller's transaction)."""
    tokens = tokens or {}
    # tables holding the very same Column objects (read once for many tables alike: one
    # pipeline's tables, a tenant per schema) share one encoded text: encoding 10,000
    # snapshots of 31 columns was half of saving them
    encoded: dict[tuple[int, ...], t.Encoded] = {}
    rows = []
    for table, columns in tables.items():
        key = tuple(map(id, columns))
        text = encoded.get(key)
        if text is None:
            text = encoded[key] = t.Encoded(t.dumps(_plain_columns(columns)))
        rows.append({"monitor_id": monitor_id, "table_name": table,
                     "taken_at": t.aware(taken_at), "version_token": tokens.get(table),
                     "columns": text})
    for start in range(0, len(rows), _CHUNK):
        conn.execute(sa.insert(t.schema_snapshots), rows[start : start + _CHUNK])


#: The fields of a stored column row, in order.
FIELDS = ("name", "position", "data_type", "type_family", "nullable")


def _plain_columns(columns: Sequence[Column]) -> list[list[Any]]:
    """A snapshot's columns as stored: one row of :data:`FIELDS` per column, written out
    (a generic walk over the dataclass fields was most of the time to save 10,000
    snapshots)."""
    return [[c.name, c.position, c.data_type, c.type_family, c.nullable] for c in columns]


def _columns(stored: list[Any], shared: dict[tuple[Any, ...], Column]) -> list[Column]:
    """A stored snapshot's columns: rows of :data:`FIELDS`, or (written before) one object
    per column; an equal column already read in ``shared`` is reused, not built again."""
    out = []
    for col in stored:
        key = tuple(col) if isinstance(col, list) else tuple(col[f] for f in FIELDS)
        found = shared.get(key)
        if found is None:
            name, position, data_type, type_family, nullable = key
            found = shared[key] = Column(name=name, position=position, data_type=data_type,
                                         type_family=type_family, nullable=nullable)
        out.append(found)
    return out
