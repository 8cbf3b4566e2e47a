"""Rendered statements kept on disk by query shape, so that a run whose queries were rendered
before (every run after the first, with the same config and code) sends them without
importing sqlglot, which costs ~0.1 s of start-up before the first query.

Only queries whose builder has *parts* (``SqlWarehouse.PARTS``: the time facts in
``facts_sql.py``, the drift counts in ``drift_sql.py``, the shared catalog queries in
``catalog_sql.py``, whose table names are binds, the backtest in ``backtest_sql.py``, the
contract queries in ``rulesql.py``) are kept: a function that computes, without sqlglot,
the query's shape (its identifiers, and each filter's column, operator and number of
values) and its binds. The SQL is a function
of the adapter class and the shape alone; every value is a bind, computed apart by the parts
on every render and never stored.
A statement is found by a key that hashes the code that renders it (sqlglot's version, the
``watchdog.warehouses`` package, the modules of the adapter and its parents), the adapter
class and its dialect, the query's name and its shape.

Folder: ``$WATCHDOG_SQL_CACHE``, else ``$XDG_CACHE_HOME/watchdog/sql``, else
``~/.cache/watchdog/sql``; ``WATCHDOG_SQL_CACHE=off`` turns the cache off. A file holds SQL
that is run as it is, so the folder is the user's own (mode 0700). Writes are atomic and
best effort: where nothing can be written, each run renders as it would without a cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("watchdog.sqlcache")

ENV = "WATCHDOG_SQL_CACHE"
_FINGERPRINTS: dict[type, str] = {}
_LOCK = threading.Lock()
#: A folder of one code fingerprint (older ones are removed when a new one is made).
_GENERATION = re.compile(r"[0-9a-f]{16}")


def folder() -> Path | None:
    """Where statements are kept (None: off)."""
    where = os.environ.get(ENV)
    if where == "off":
        return None
    if where:
        return Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "watchdog" / "sql"


def fingerprint(adapter: type) -> str | None:
    """A hash of the code that renders ``adapter``'s statements (None: sqlglot is missing)."""
    with _LOCK:
        found = _FINGERPRINTS.get(adapter)
        if found is None:
            spec = importlib.util.find_spec("sqlglot")  # found, not imported
            if spec is None or not spec.submodule_search_locations:
                return None
            digest = hashlib.sha256()
            here = Path(__file__).parent
            sources = [Path(next(iter(spec.submodule_search_locations))) / "_version.py",
                       *sorted(here.glob("*.py")), *_class_files(adapter)]
            for path in sources:
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
            found = _FINGERPRINTS[adapter] = digest.hexdigest()
        return found


def _class_files(adapter: type) -> list[Path]:
    """The source files of the adapter and of every class it inherits from (a plugin's
    adapter may live outside this package, its parents in several modules)."""
    files = {getattr(sys.modules.get(k.__module__), "__file__", None) for k in adapter.__mro__}
    return sorted(Path(f) for f in files if f and f.endswith(".py"))


def key(adapter: type, query: str, shape: tuple[Any, ...]) -> str | None:
    """The name of the file that holds ``query``'s SQL for this shape (None: no cache)."""
    code = fingerprint(adapter)
    if code is None:
        return None
    what = [code, adapter.__module__, adapter.__qualname__, getattr(adapter, "DIALECT", None),
            query, shape]
    return hashlib.sha256(json.dumps(what, ensure_ascii=False).encode()).hexdigest()


def _path(adapter: type, query: str, shape: tuple[Any, ...]) -> Path | None:
    where = folder()
    name = key(adapter, query, shape) if where is not None else None
    if where is None or name is None:
        return None
    return where / (fingerprint(adapter) or "")[:16] / f"{name}.sql"


def get(adapter: type, query: str, shape: tuple[Any, ...]) -> str | None:
    """The SQL kept for this shape, or None."""
    path = _path(adapter, query, shape)
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def put(adapter: type, query: str, shape: tuple[Any, ...], sql: str) -> None:
    """Keep ``sql`` for this shape (best effort: a failure is logged at debug level)."""
    path = _path(adapter, query, shape)
    if path is None:
        return
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            _prune(path.parent)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         suffix=".tmp", delete=False) as tmp:
            tmp.write(sql)
        os.replace(tmp.name, path)
    except OSError as exc:
        log.debug("cannot keep a rendered statement in %s: %s", path.parent, exc)


def _prune(current: Path) -> None:
    """Remove the statements of older code (other fingerprints' folders)."""
    for other in current.parent.iterdir():
        if other != current and other.is_dir() and _GENERATION.fullmatch(other.name):
            for file in other.iterdir():
                file.unlink(missing_ok=True)
            other.rmdir()
