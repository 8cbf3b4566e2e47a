"""Reference profiles: the reference is read once, summarised, and stored (versioned).

A profile holds, per feature: bin edges (quantiles of a bounded sample) with the exact counts
of the whole reference over them (one warehouse scan for all numeric columns), a few
quantiles, mean and standard deviation, and the bounded sample itself (for exact KS and
Wasserstein); for categorical features the most frequent values with their counts and the
rest as "other"; and the missing rate of every feature. Current runs compare against it
and never re-read the reference table. ``watchdog drift baseline MONITOR`` rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from watchdog.checks import stats
from watchdog.errors import WatchdogError
from watchdog.models import Predicate
from watchdog.warehouses.base import Warehouse

if TYPE_CHECKING:
    from watchdog.checks.drift import DriftParams

#: Artifact kind of reference profiles in the state store (key: the monitor id).
KIND = "drift_profile"
#: Layout version of the stored document; a profile of another layout is rebuilt.
SCHEMA = 1
NUMERIC_FAMILIES = frozenset({"integer", "float", "decimal"})
CATEGORICAL_FAMILIES = frozenset({"string", "boolean"})
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@runtime_checkable
class ArtifactStore(Protocol):
    """The part of the state store that keeps versioned JSON documents."""

    def put_artifact(self, kind: str, key: str, payload: Mapping[str, Any]) -> int: ...

    def get_artifact(
        self, kind: str, key: str, version: int | None = None
    ) -> tuple[int, datetime, dict[str, Any]] | None: ...


def fingerprint(p: DriftParams) -> str:
    """A hash of everything that shapes a profile; a changed config means a stale profile."""
    keys = {"reference", "features", "exclude", "numeric", "categorical", "prediction_columns",
            "attribution_columns", "bins", "max_categories", "sample_size", "table"}
    text = json.dumps(p.model_dump(include=keys, mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def feature_plan(wh: Warehouse, p: DriftParams) -> dict[str, dict[str, str]]:
    """``{column: {"type": numeric|categorical, "role": feature|prediction}}``.

    Types come from the current table's column types unless ``numeric``/``categorical``
    name the column; ``features: all`` takes every numeric, string and boolean column except
    the time column, prediction, attribution and excluded columns.
    """
    table = wh.table(p.table)
    columns = {c.name: c.type_family for c in wh.columns([table]).get(table, [])}
    if not columns:
        raise WatchdogError(f"drift monitor {p.id}: table {table} not found or has no columns")
    skip = {p.time_column, *p.exclude, *p.attribution_columns.values()}
    wanted = ([c for c in columns if c not in skip and c not in p.prediction_columns]
              if p.features == "all" else list(p.features))
    plan: dict[str, dict[str, str]] = {}
    for role, names in (("feature", wanted), ("prediction", list(p.prediction_columns))):
        for name in names:
            kind = _column_type(name, columns.get(name), p)
            if kind is None and p.features == "all" and role == "feature":
                continue
            if kind is None:
                raise WatchdogError(
                    f"drift monitor {p.id}: column {name!r} of {table} is missing or neither "
                    "numeric nor categorical", hint="list it under `numeric:` or `categorical:`")
            plan[name] = {"type": kind, "role": role}
    return plan


def _column_type(name: str, family: str | None, p: DriftParams) -> str | None:
    if family is None:
        return None
    if name in p.categorical:
        return "categorical"
    if name in p.numeric or family in NUMERIC_FAMILIES:
        return "numeric"
    return "categorical" if family in CATEGORICAL_FAMILIES else None


def reference_where(p: DriftParams, now: datetime) -> tuple[list[Predicate], dict[str, Any]]:
    """The reference's filters (its time window resolved against ``now``) and a description."""
    ref = p.reference
    where = [f.predicate() for f in ref.where]
    start = ref.start or (now - ref.start_ago if ref.start_ago is not None else None)
    end = ref.end or (now - ref.end_ago if ref.end_ago is not None else None)
    if ref.time_column and start is not None:
        where.append(Predicate(column=ref.time_column, op=">=", value=start))
    if ref.time_column and end is not None:
        where.append(Predicate(column=ref.time_column, op="<", value=end))
    window = {"start": start.isoformat() if start else None,
              "end": end.isoformat() if end else None}
    return where, {"table": ref.table, "time_column": ref.time_column, **window}


def build_profile(wh: Warehouse, p: DriftParams, now: datetime) -> dict[str, Any]:
    """Read the reference once and summarise it (see the module docstring)."""
    table = wh.table(p.reference.table)
    where, described = reference_where(p, now)
    plan = feature_plan(wh, p)
    numeric = [c for c, f in plan.items() if f["type"] == "numeric"]
    rows = wh.sample(table, numeric, p.sample_size, where) if numeric else []
    samples = {c: _floats(r.get(c) for r in rows) for c in numeric}
    edges = {c: stats.quantile_edges(samples[c], p.bins) or [0.0, 0.0] for c in numeric}
    hists = wh.histograms(table, edges, where)
    features: dict[str, Any] = {}
    for name, info in plan.items():
        if info["type"] == "numeric":
            h, sample = hists[name], samples[name]
            features[name] = {
                **info, "edges": list(h.edges), "counts": list(h.counts), "below": h.below,
                "above": h.above, "missing": h.missing, "total": h.total,
                **_moments(sample), "sample": [float(x) for x in sample],
            }
        else:
            cc = wh.category_counts(table, name, limit=p.max_categories, where=where)
            features[name] = {
                **info, "categories": [v for v, _ in cc.counts],
                "counts": [n for _, n in cc.counts], "other": cc.other,
                "missing": cc.missing, "total": cc.total,
            }
    attributions = wh.abs_means(table, list(p.attribution_columns.values()), where)
    return {
        "schema": SCHEMA, "monitor": p.id, "fingerprint": fingerprint(p),
        "built_at": now.isoformat(), "reference": described, "features": features,
        "attributions": {f: attributions.get(c) for f, c in p.attribution_columns.items()},
    }


def _floats(values: Any) -> np.ndarray:
    out = np.array([float(v) for v in values if v is not None], dtype=np.float64)
    return out[np.isfinite(out)]


def _moments(sample: np.ndarray) -> dict[str, Any]:
    if not len(sample):
        return {"mean": None, "std": None, "quantiles": {}}
    qs = np.quantile(sample, QUANTILES)
    return {"mean": float(np.mean(sample)), "std": float(np.std(sample)),
            "quantiles": {f"p{round(q * 100)}": float(v) for q, v in zip(QUANTILES, qs,
                                                                          strict=True)}}


def load_profile(store: object, p: DriftParams) -> tuple[int, dict[str, Any]] | None:
    """``(version, profile)`` of the latest stored profile if it fits ``p``, else None."""
    if not isinstance(store, ArtifactStore):
        return None
    found = store.get_artifact(KIND, p.id)
    if found is None:
        return None
    version, _, payload = found
    if payload.get("schema") != SCHEMA or payload.get("fingerprint") != fingerprint(p):
        return None
    return version, payload


def rebuild(store: object, wh: Warehouse, p: DriftParams, now: datetime
            ) -> tuple[int, dict[str, Any]]:
    """Build a profile and store it as a new version (version 0 when there is no store)."""
    profile = build_profile(wh, p, now)
    if not isinstance(store, ArtifactStore):
        return 0, profile
    return store.put_artifact(KIND, p.id, _json_safe(profile)), profile


def load_or_build(store: object, wh: Warehouse, p: DriftParams, now: datetime
                  ) -> tuple[int, dict[str, Any], bool]:
    """The stored profile, or a new one when none fits; the flag says it was just built."""
    found = load_profile(store, p)
    if found is not None:
        return (*found, False)
    return (*rebuild(store, wh, p, now), True)


def _json_safe(value: Any) -> Any:
    """NaN/inf become None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def numeric_sample(rows: Sequence[Mapping[str, Any]], column: str) -> np.ndarray:
    """The finite values of ``column`` in sampled rows."""
    return _floats(r.get(column) for r in rows)
