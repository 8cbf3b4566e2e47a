"""Small builders shared by the tests: real databases, real configs, no mocks of our code."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import POSTGRES_URL
from watchdog.config.models import Config
from watchdog.load import load_config


def duckdb_engine(path: Path | str) -> sa.Engine:
    """A SQLAlchemy engine on a DuckDB file, for seeding it, over the plain ``duckdb.connect``
    that watchdog's adapter uses: duckdb-engine's own connect adds a user-agent option, and
    DuckDB refuses a second connection to a file open in the process with other options."""
    import duckdb
    from duckdb_engine import ConnectionWrapper

    return sa.create_engine("duckdb://",
                            creator=lambda: ConnectionWrapper(duckdb.connect(str(path))))


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, dict[str, Any], str]]:
    """A real empty database: (engine for seeding, warehouse config block, schema name)."""
    if kind == "duckdb":
        path = tmp_path / "w.duckdb"
        engine = duckdb_engine(path)
        yield engine, {"type": "duckdb", "settings": {"path": str(path)}}, "main"
        engine.dispose()
    elif kind == "sqlite":
        path = tmp_path / "w.sqlite"
        engine = sa.create_engine(f"sqlite:///{path}")
        yield engine, {"type": "sqlite", "settings": {"path": str(path)}}, "main"
        engine.dispose()
    else:
        schema = f"wd_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as con:
            con.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield engine, {"type": "postgres", "settings": {"url": POSTGRES_URL}}, schema
        finally:
            with engine.begin() as con:
                con.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


def make_events(engine: sa.Engine, schema: str, times: Sequence[datetime],
                statuses: Sequence[str] | None = None, table: str = "events") -> None:
    """``schema.table(ts TIMESTAMP, status VARCHAR)`` holding one row per time (naive UTC)."""
    statuses = statuses or ["success"] * len(times)
    with engine.begin() as con:
        con.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}"."{table}"'))
        ddl = f'CREATE TABLE "{schema}"."{table}" (ts TIMESTAMP, status VARCHAR(20))'
        con.execute(sa.text(ddl))
        rows = [{"ts": t.replace(tzinfo=None).isoformat(sep=" "), "s": s}
                for t, s in zip(times, statuses, strict=True)]
        # SQLite keeps timestamps as ISO text (CAST AS TIMESTAMP would make them numbers)
        ts = ":ts" if engine.dialect.name == "sqlite" else "CAST(:ts AS TIMESTAMP)"
        if rows:
            con.execute(sa.text(f'INSERT INTO "{schema}"."{table}" VALUES ({ts}, :s)'), rows)


def config_from(tmp_path: Path, text: str, name: str = "config.yaml") -> Config:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_config(path, {})


def yaml_block(data: dict[str, Any], indent: int) -> str:
    import yaml

    return textwrap.indent(yaml.safe_dump(data, sort_keys=False), " " * indent)


def schema_config(wh: dict[str, Any], tables: Sequence[str]) -> str:
    """Config text: warehouse ``wh`` (its ``type`` and ``settings``) and one schema monitor
    ``sc`` over ``tables``."""
    import json

    return ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\nmonitors:\n"
            "  - id: sc\n    kind: schema\n    warehouse: wh\n"
            f"    tables: {json.dumps(list(tables))}\n")
