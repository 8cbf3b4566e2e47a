"""Load contracts/*.yaml (and *.py) into contract monitors, every problem as file:line.

YAML contracts are read through :mod:`watchdog.config.loader` (line numbers, ``${VAR}``)
and validated by :class:`~watchdog.contracts.model.ContractSpec` before anything else, so a
typo is an error, not a silently ignored key. A Python contract is a module with a dict
``CONTRACT`` (the same keys, without ``columns``/``checks``) and one pandera
``DataFrameModel``; it always runs on a sample.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic

from watchdog.config.loader import Document, load
from watchdog.config.models import Config
from watchdog.config.problems import pydantic_problems
from watchdog.contracts.model import ContractSpec
from watchdog.contracts.params import ContractParams
from watchdog.errors import ConfigError, ConfigProblem

_MODELS: dict[str, Any] = {}


def add_contracts(
    config: Config, base: Path, env: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[Config, list[ConfigProblem]]:
    """``config`` with a monitor per contract in ``config.contracts`` (relative to ``base``);
    ``context`` is pydantic's validation context (see :data:`watchdog.load.CONTEXT`)."""
    monitors, problems = load_contracts(config, base / config.contracts, env, context)
    ids = {m.id for m in config.monitors}
    for m in monitors:
        if m.id in ids:
            problems.append(ConfigProblem(
                file=m.source, line=None, path="id", message=f"duplicate monitor id {m.id!r}",
                hint="set a distinct id: in the contract"))
        ids.add(m.id)
    return config.model_copy(update={"monitors": (*config.monitors, *monitors)}), problems


def load_contracts(
    config: Config, directory: Path, env: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[list[Any], list[ConfigProblem]]:
    """Every contract in ``directory`` as a ContractParams monitor, and every problem found.

    A directory that does not exist holds no contracts.
    """
    if not directory.is_dir():
        return [], []
    monitors: list[Any] = []
    problems: list[ConfigProblem] = []
    for path in sorted(directory.iterdir()):
        if path.suffix in (".yaml", ".yml"):
            found = _load_yaml(config, path, env, problems, context)
        elif path.suffix == ".py" and not path.name.startswith("_"):
            found = _load_python(config, path, problems, context)
        else:
            continue
        if found is not None:
            monitors.append(found)
    return monitors, problems


def _load_yaml(config: Config, path: Path, env: Mapping[str, str] | None,
               problems: list[ConfigProblem], context: Mapping[str, Any] | None) -> Any:
    try:
        doc = load(path, env)
    except ConfigError as exc:
        problems += exc.problems
        return None
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "a contract must be a mapping"))
        return None
    return _monitor(config, doc, doc.data, path, None, problems, context)


def _monitor(config: Config, doc: Document, data: dict[str, Any], path: Path,
             python_model: str | None, problems: list[ConfigProblem],
             context: Mapping[str, Any] | None) -> Any:

    try:
        spec = ContractSpec.model_validate(data, context=context)
    except pydantic.ValidationError as exc:
        found = pydantic_problems(exc, ContractSpec, (), doc)
        for p in found:
            if ".checks." in f".{p.path}" and p.message == "unknown key":
                p.message = "unknown check"
        problems += found
        return None
    refs = references(config, doc, spec)
    problems += refs
    if refs:
        return None
    return ContractParams(
        id=spec.id or path.stem, warehouse=spec.warehouse, table=spec.table, owner=spec.owner,
        description=spec.description, schedule=spec.schedule, timeout=spec.timeout, spec=spec,
        tags=(*spec.tags, f"contract:{spec.id or path.stem}"),
        source=str(path), python_model=python_model,
        consumer_models=tuple(c.model for c in spec.consumers),
    )


def references(config: Config, doc: Document, spec: ContractSpec) -> list[ConfigProblem]:
    """Names in the contract that must be defined in config.yaml."""
    from watchdog.config.references import table_problem, undefined

    out = []
    if spec.warehouse not in config.warehouses:
        out.append(undefined(doc, ("warehouse",), "warehouses", spec.warehouse, config.warehouses))
    elif (bad := table_problem(config, doc, ("table",), spec.warehouse, spec.table)) is not None:
        out.append(bad)
    if spec.owner is not None and spec.owner not in config.ownership.teams:
        out.append(undefined(doc, ("owner",), "ownership.teams", spec.owner,
                             config.ownership.teams))
    for i, consumer in enumerate(spec.consumers):
        if consumer.model not in config.ownership.models:
            out.append(undefined(doc, ("consumers", i, "model"), "ownership.models",
                                 consumer.model, config.ownership.models))
        unknown = [c for c in consumer.columns if spec.columns and c not in spec.columns]
        if unknown:
            out.append(doc.problem(("consumers", i, "columns"),
                                   f"columns not under columns: {', '.join(unknown)}"))
    return out


def _load_python(config: Config, path: Path, problems: list[ConfigProblem],
                 context: Mapping[str, Any] | None) -> Any:
    doc = Document(file=str(path), data=None)
    try:
        module = _import(path)
    except Exception as exc:  # a user's module: report any failure as a problem
        problems.append(doc.problem((), f"cannot import: {type(exc).__name__}: {exc}"))
        return None
    data = getattr(module, "CONTRACT", None)
    models = _dataframe_models(module)
    if not isinstance(data, dict) or len(models) != 1:
        problems.append(doc.problem((), "a Python contract needs a dict CONTRACT and exactly "
                                        f"one pandera DataFrameModel (found {len(models)})"))
        return None
    try:
        models[0].to_schema()  # pandera checks the model here: a bad field is a load problem
    except Exception as exc:  # pandera raises several types for a bad model
        problems.append(doc.problem((), f"invalid DataFrameModel: {exc}"))
        return None
    if "columns" in data or "checks" in data:
        problems.append(doc.problem(("CONTRACT",), "columns and checks belong in the model"))
        return None
    data = {**data, "scan": "sample"}
    return _monitor(config, doc, data, path, f"{path}:{models[0].__name__}", problems,
                    context)


def _import(path: Path) -> Any:
    name = f"watchdog_contract_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _dataframe_models(module: Any) -> list[Any]:
    from pandera.api.dataframe.model import DataFrameModel

    return [v for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, DataFrameModel) and v is not DataFrameModel
            and v.__module__ == module.__name__]


def python_model(ref: str) -> Any:
    """The DataFrameModel class named by ``file.py:Class`` (imported once per process)."""
    if ref not in _MODELS:
        file, _, cls = ref.rpartition(":")
        _MODELS[ref] = getattr(_import(Path(file)), cls)
    return _MODELS[ref]
