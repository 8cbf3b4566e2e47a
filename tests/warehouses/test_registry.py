"""The registry: lazy lookups, did-you-mean, missing extras, settings validated up front."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
import textwrap
from typing import Any

import pydantic
import pytest

from tests.warehouses.seeding import BACKENDS
from watchdog.errors import ConfigError, MissingExtra, UnknownName
from watchdog.models import TableRef
from watchdog.warehouses import WAREHOUSES, Warehouse, available, create, get_class
from watchdog.warehouses.base import WarehouseSettings


def test_unknown_type_suggests_the_closest_name() -> None:
    with pytest.raises(UnknownName) as info:
        get_class("duckbd")
    assert info.value.suggestion == "duckdb"
    assert "did you mean 'duckdb'?" in str(info.value)


def test_every_registered_type_has_its_adapter_module() -> None:
    """A registry entry without a module would be our bug, not the user's: held here, so
    no error class exists for it."""
    for name, target in WAREHOUSES.items():
        module, _, attr = target.partition(":")
        assert importlib.util.find_spec(module) is not None, name
        assert attr, name


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "watchdog.warehouses.postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    with pytest.raises(MissingExtra) as info:
        get_class("postgres")
    assert "pip install 'ml-watchdog[postgres]'" in str(info.value)
    assert "postgres" not in available()


#: Adapters whose stand-in replays recorded responses and cannot run the seeded suite:
#: their conformance is golden SQL plus recorded rows (tests/warehouses/bigquery/).
REPLAY_ONLY = {"bigquery"}


def test_every_available_adapter_is_in_the_conformance_suite() -> None:
    assert {"duckdb", "sqlite", "postgres"} <= set(available())
    missing = set(available()) - REPLAY_ONLY - set(BACKENDS)
    assert not missing, "add a backend in tests/warehouses/seeding.py"


def _documented_fields(settings: type) -> set[str]:
    """The fields of ``settings`` (and of its settings bases) written with a docstring right
    below them, read from the source."""
    out: set[str] = set()
    for klass in settings.__mro__:
        if not (isinstance(klass, type) and issubclass(klass, WarehouseSettings)):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0]
        assert isinstance(body, ast.ClassDef)
        for field, after in zip(body.body, body.body[1:], strict=False):
            if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str) and after.value.value.strip()):
                out.add(field.target.id)
    return out


@pytest.mark.parametrize("type_name", sorted(BACKENDS))
def test_adapter_classes_are_complete(type_name: str) -> None:
    cls = get_class(type_name)
    assert issubclass(cls, Warehouse) and type_name == cls.NAME
    assert get_class(type_name.upper()) is cls
    assert cls.__doc__ and cls.Settings.__doc__
    documented = _documented_fields(cls.Settings)
    for name in cls.Settings.model_fields:
        assert name in documented, f"{cls.Settings.__name__}.{name} needs a docstring"
    flags = [n for n in dir(cls) if n.startswith("SUPPORTS_")]
    assert {"SUPPORTS_AUDIT_LOG", "SUPPORTS_TABLESAMPLE", "SUPPORTS_SCHEMA_VERSION"} <= set(flags)
    assert cls.table("events") == TableRef(schema=cls.DEFAULT_SCHEMA, name="events")


def test_settings_are_checked_and_frozen_before_any_connection(tmp_path: object) -> None:
    with pytest.raises(ConfigError, match=r"warehouses\.main\.settings\.pathh"):
        create("main", "duckdb", {"pathh": "x.duckdb"})
    with pytest.raises(ConfigError, match="read-only"):
        create("main", "duckdb", {"read_only": True})
    wh = create("main", "sqlite", {"path": "/nonexistent/dir/file.sqlite"})  # not opened yet
    settings: Any = wh.settings
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        settings.path = "other"
    with pytest.raises(TypeError):
        get_class("duckdb")("x", get_class("sqlite").Settings.model_validate({"path": "a"}))


def test_an_adapter_claims_the_audit_log_only_where_it_reads_one() -> None:
    from watchdog.warehouses.base import Warehouse

    claims = {name for name in available() if get_class(name).SUPPORTS_AUDIT_LOG}
    readers = {name for name in available()
               if get_class(name).audit_events is not Warehouse.audit_events}
    assert claims == readers and "postgres" in claims
