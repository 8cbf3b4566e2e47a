"""A fixed reference window (``reference: {start, end}``): per group, its metrics are the
baseline of ``max_drop`` for the metrics without a declared ``baseline``.

Its sums come from the same warehouse query as the lookback's (``Warehouse.backtest``), over
the reference's time range as one window. Once label-complete the reference no longer
changes, so it is read once and kept in the state store (``KIND``, staged with the run's
result like the estimates: a run killed before its commit leaves nothing, and the next one
reads it again); a run reads the warehouse again only when what the sums depend on changed
(the tables, columns, threshold, range, or the layout of the sums).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from watchdog.checks.backtest.params import BacktestParams
from watchdog.checks.base import History
from watchdog.errors import ConfigError, ConfigProblem
from watchdog.models import BacktestSpec, BacktestSums
from watchdog.warehouses.base import Warehouse

if TYPE_CHECKING:
    from watchdog.checks.backtest.check import Judged

#: The state store's document of the reference window's sums (per monitor).
KIND = "backtest_reference"
SCHEMA = 1


def attach(wh: Warehouse, p: BacktestParams, spec: BacktestSpec, store: History | None,
           groups: Sequence[Judged], now: datetime) -> None:
    """Set each group's ``reference`` sums (None: the group has no prediction in the
    reference window); the stored ones, else read and staged for the run's commit."""
    if p.reference is None:
        return
    complete(p, now)
    found = load(store, p, spec)
    if found is None:
        found = scan(wh, p, spec)
        if store is not None:
            store.put_artifact(KIND, p.id, {**fingerprint(p, spec), "groups": {
                label: s.to_json() for label, s in sorted(found.items())}})
    for j in groups:
        j.reference = found.get(j.label)


def complete(p: BacktestParams, now: datetime) -> None:
    """One clear line unless the reference ended at least ``feedback_delay`` before ``now``."""
    assert p.reference is not None
    if p.reference.end > now - p.feedback_delay:
        raise ConfigError([ConfigProblem(
            file="config", line=None, path=f"monitors.{p.id}.reference.end",
            message=f"{p.reference.end:%Y-%m-%d %H:%M} UTC is within feedback_delay of now "
                    f"({now:%Y-%m-%d %H:%M} UTC), so its labels may still be arriving",
            hint=f"set it to {now - p.feedback_delay:%Y-%m-%d %H:%M} or earlier")])


def scan(wh: Warehouse, p: BacktestParams, spec: BacktestSpec) -> dict[str, BacktestSums]:
    """The reference's sums per group label, in one query (the range as one window)."""
    from watchdog.checks.groups import group_label

    assert p.reference is not None
    start, end = p.reference.start, p.reference.end
    found: dict[str, BacktestSums] = {}
    for w in wh.backtest(spec, start, end, end - start):
        label = group_label(p.group_by, w.group)
        found[label] = BacktestSums.total([found[label], w.sums]) if label in found else w.sums
    return found


def fingerprint(p: BacktestParams, spec: BacktestSpec) -> dict[str, Any]:
    """What the stored sums depend on: a stored document with another is read again."""
    assert p.reference is not None
    return {"schema": SCHEMA, "start": p.reference.start.isoformat(),
            "end": p.reference.end.isoformat(), "spec": repr(spec),
            "fields": [f.name for f in dataclasses.fields(BacktestSums)]}


def load(store: History | None, p: BacktestParams,
         spec: BacktestSpec) -> dict[str, BacktestSums] | None:
    """The stored sums per group label, when stored for the same reference and query."""
    found = store.get_artifact(KIND, p.id) if store else None
    if found is None:
        return None
    payload = found[2]
    if any(payload.get(k) != v for k, v in fingerprint(p, spec).items()):
        return None
    return {label: BacktestSums.from_json(doc) for label, doc in payload.get("groups", {}).items()}


def span(p: BacktestParams) -> str:
    """``the reference window 2026-11-01–2026-11-08`` (times shown when not midnight)."""
    assert p.reference is not None
    start, end = p.reference.start, p.reference.end
    fmt = "%Y-%m-%d" if all((t.hour, t.minute, t.second) == (0, 0, 0) for t in (start, end)) \
        else "%Y-%m-%d %H:%M"
    return f"the reference window {start:{fmt}}–{end:{fmt}}"


def missing(p: BacktestParams, j: Judged, name: str) -> str:
    """Why a group has no reference baseline for ``name``."""
    if j.reference is None:
        return (f"{name}: {j.label} has no predictions in {span(p)} (a new version?): "
                f"max_drop not judged")
    return (f"{name}: {j.label} has {j.reference.labelled} labelled predictions in "
            f"{span(p)}, fewer than min_labelled_rows {p.min_labelled_rows}: max_drop "
            f"not judged")
