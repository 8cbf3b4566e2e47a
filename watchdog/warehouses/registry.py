"""The warehouse registry: a plain table of type name -> ``module:Class``, imported lazily.

Importing an adapter imports its driver, so a missing driver is reported when the type is
looked up (for instance while the config is validated), naming the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import pydantic

from watchdog import secrets
from watchdog.errors import ConfigError, ConfigProblem, MissingExtra, UnknownName
from watchdog.warehouses.base import Warehouse, WarehouseSettings

#: Every warehouse type, as written in config (``type: duckdb``).
WAREHOUSES: dict[str, str] = {
    "duckdb": "watchdog.warehouses.duckdb:DuckDB",
    "sqlite": "watchdog.warehouses.sqlite:SQLite",
    "postgres": "watchdog.warehouses.postgres:Postgres",
    "redshift": "watchdog.warehouses.redshift:Redshift",
    "snowflake": "watchdog.warehouses.snowflake:Snowflake",
    "bigquery": "watchdog.warehouses.bigquery:BigQuery",
}

#: Driver packages that come with an extra: top-level import name -> extra name.
EXTRAS: dict[str, str] = {
    "psycopg": "postgres",
    "snowflake": "snowflake",
    "google": "bigquery",
    "redshift_connector": "redshift",
}


def get_class(type_name: str) -> type[Warehouse]:
    """The adapter class for ``type_name``; raises UnknownName or MissingExtra."""
    key = type_name.strip().lower()
    if key not in WAREHOUSES:
        raise UnknownName("warehouse type", type_name, WAREHOUSES)
    module_name, _, attr = WAREHOUSES[key].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top in EXTRAS:
            raise MissingExtra(top, EXTRAS[top]) from exc
        raise
    cls: type[Warehouse] = getattr(module, attr)
    return cls


def available() -> list[str]:
    """The warehouse types that can be used here (their drivers installed)."""
    names = []
    for name in WAREHOUSES:
        try:
            get_class(name)
        except MissingExtra:
            continue
        names.append(name)
    return sorted(names)



def create(
    name: str, type_name: str, settings: Mapping[str, Any] | WarehouseSettings
) -> Warehouse:
    """A ``type_name`` adapter called ``name``; validates ``settings`` and does not connect."""
    cls = get_class(type_name)
    if not isinstance(settings, cls.Settings):
        secrets.register_config(dict(settings))  # before validating: errors may echo them
        try:
            settings = cls.Settings.model_validate(dict(settings))
        except pydantic.ValidationError as exc:
            raise ConfigError(_problems(name, exc)) from None
    secrets.register_model(settings)
    return cls(name, settings)


def _problems(name: str, exc: pydantic.ValidationError) -> list[ConfigProblem]:
    # include_input=False: the input may be a password
    return [
        ConfigProblem(
            file="config",
            line=None,
            path=".".join(["warehouses", name, "settings", *map(str, err["loc"])]),
            message=err["msg"],
        )
        for err in exc.errors(include_input=False)
    ]
