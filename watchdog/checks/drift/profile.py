"""Reference profiles: the reference is read once, summarised, and stored (versioned).

A profile holds, per feature: the whole reference's counts over a fine grid (one GROUP BY per
numeric column, one pass; for KS within ~1e-4 and Wasserstein within ~1e-3 in bins mode, see
``distributions.ks_counts``, ``stats.ks_bounds`` and ``stats.wasserstein_bounds``), bin edges
(quantiles of a bounded sample, moved to the nearest boundary of the fine grid, so that the
bins' exact counts are sums of the fine counts and come from the same pass), the exact mean
and standard deviation (sums from the same pass), a few quantiles and the bounded sample
itself (for `mode: sample`); for categorical
features the most frequent values with their counts and the rest as "other"; and the
missing rate of every feature. Current runs compare against it and never re-read the
reference table. ``watchdog drift baseline MONITOR`` rebuilds it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from watchdog.checks import overlap, stats
from watchdog.checks.drift.params import DriftParams
from watchdog.errors import UnsupportedFeature, WatchdogError
from watchdog.lazy import lazy
from watchdog.models import FineCounts, FineGrid, Histogram, Predicate, TableRef
from watchdog.warehouses.base import Warehouse

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

#: Artifact kind of reference profiles in the state store (key: the monitor id).
KIND = "drift_profile"
#: Layout version of the stored document; a profile of another layout is rebuilt.
SCHEMA = 4
#: Older layouts still read as they are: 3 differs only in its fine grids' map (``atan``).
READABLE = frozenset({3, SCHEMA})
#: Buckets of a softsign fine grid per unit of ``ks_resolution``: its largest bucket holds
#: ~1.94/R of a normal reference where the atan grid's holds ~1.52/R, so 1.28 R softsign
#: buckets keep the precision ``ks_resolution`` promised (``models.FineGrid``).
SOFTSIGN_BUCKETS = 1.28
NUMERIC_FAMILIES = frozenset({"integer", "float", "decimal"})
CATEGORICAL_FAMILIES = frozenset({"string", "boolean"})
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
#: Columns per sample query (Python holds sample_size rows of this many columns at once).
SAMPLE_BATCH = 32


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
            "attribution_columns", "bins", "max_categories", "sample_size", "table",
            "ks_resolution"}
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
    # the categorical columns and the attributions are read while the numeric ones are
    # (``overlap``): one more statement at a time, not one per column
    others = overlap.start(_categorical_profile, wh, table, p, plan, where)
    try:
        samples = column_samples(wh, table, numeric, p.sample_size, where)
        numbers = numeric_profile(wh, table, samples, p, where)
    finally:
        overlap.settle([others])
    categories, attributions = others.result()
    features = {name: {**info, **(numbers[name] if info["type"] == "numeric"
                                  else categories[name])} for name, info in plan.items()}
    return {
        "schema": SCHEMA, "monitor": p.id, "fingerprint": fingerprint(p),
        "built_at": now.isoformat(), "reference": described, "features": features,
        "attributions": {f: attributions.get(c) for f, c in p.attribution_columns.items()},
    }


def _categorical_profile(wh: Warehouse, table: TableRef, p: DriftParams,
                         plan: Mapping[str, Mapping[str, str]], where: Sequence[Predicate]
                         ) -> tuple[dict[str, dict[str, Any]], dict[str, float | None]]:
    """Each categorical feature's part of the profile (its top values), and the mean
    |attribution| of each attribution column."""
    out: dict[str, dict[str, Any]] = {}
    for name, info in plan.items():
        if info["type"] == "numeric":
            continue
        cc = wh.category_counts(table, name, limit=p.max_categories, where=where)
        out[name] = {"categories": [v for v, _ in cc.counts],
                     "counts": [n for _, n in cc.counts], "other": cc.other,
                     "missing": cc.missing, "total": cc.total}
    return out, wh.abs_means(table, list(p.attribution_columns.values()), where)


def numeric_profile(wh: Warehouse, table: Any, samples: Mapping[str, np.ndarray],
                    p: DriftParams, where: Sequence[Predicate]) -> dict[str, dict[str, Any]]:
    """Each numeric feature's part of the profile. Where the warehouse counts fine grids
    (and ``ks_resolution`` > 0), one pass per column gives the fine counts, the bins (edges
    moved onto the grid) and the exact moments; else the bins come from one aggregate scan
    over the sample's quantiles (the layout before fine grids)."""
    grids = {c: g for c, s in samples.items() if (g := ks_grid(s, p.ks_resolution)) is not None}
    fine = fine_counts(wh, table, grids, where, moments=True)
    tails = [c for c, f in fine.items() if tail_used(f.counts)]
    bounds = wh.extremes(table, tails, where) if tails else {}
    out: dict[str, dict[str, Any]] = {}
    for name, f in fine.items():
        grid = grids[name]
        cuts = snap_edges(stats.quantile_edges(samples[name], p.bins), grid)
        h = fine_histogram(f.counts, cuts, stats.grid_boundaries(*grid), f.missing)
        out[name] = {**_histogram(h), "edge_buckets": cuts, **_moments(samples[name]),
                     **exact_moments(f, grid.center),
                     "sample": [float(x) for x in samples[name]],
                     "ks": {"center": grid.center, "scale": grid.scale,
                            "resolution": grid.resolution, "map": grid.map,
                            "counts": pack_counts(f.counts),
                            **_extremes(bounds.get(name))}}
    rest = [c for c in samples if c not in fine]
    edges = {c: stats.quantile_edges(samples[c], p.bins) or [0.0, 0.0] for c in rest}
    for name, h in (wh.histograms(table, edges, where) if rest else {}).items():
        out[name] = {**_histogram(h), **_moments(samples[name]),
                     "sample": [float(x) for x in samples[name]]}
    return out


def fine_counts(wh: Warehouse, table: Any, grids: Mapping[str, Any],
                where: Sequence[Predicate], moments: bool = False) -> dict[str, FineCounts]:
    """``wh.ks_counts``, or nothing where the warehouse has no fine buckets."""
    if not grids:
        return {}
    try:
        return wh.ks_counts(table, grids, where, moments=moments)
    except UnsupportedFeature:
        return {}


def tail_used(counts: np.ndarray) -> bool:
    """Whether an unbounded end bucket of a fine grid (0 below, the last two above: the
    last boundary is where ``t / (1 + |t|)`` rounds to 1, ~1.8e16 scales out) holds values."""
    return bool(counts[0] or counts[-1] or counts[-2])


def snap_edges(edges: Sequence[float], grid: FineGrid) -> list[int]:
    """Bin edges moved to the nearest boundary of the fine grid, as bucket numbers
    (ascending, distinct, within 1 … resolution - 1; a single value gets the one bucket
    holding it)."""
    resolution = grid.resolution
    if not edges:
        return [resolution // 2, resolution // 2 + 1]
    pos = stats.grid_position(edges, *grid)
    cuts = sorted({int(b) for b in np.clip(np.rint(pos), 1, resolution - 1)})
    if len(cuts) < 2:
        low = int(np.clip(np.floor(pos[0]), 1, resolution - 2))
        cuts = [low, low + 1]
    return cuts


def fine_histogram(counts: np.ndarray, cuts: Sequence[int], bounds: np.ndarray,
                   missing: int) -> Histogram:
    """The bins between the fine buckets ``cuts`` (bin i: buckets ``cuts[i]`` to
    ``cuts[i+1] - 1``), as a :class:`Histogram` whose edges are the grid's boundaries
    (``bounds``, ``stats.grid_boundaries``)."""
    # the sums between [0, *cuts] (``snap_edges``: ascending, distinct, from 1), one pass
    sums = np.add.reduceat(counts, [0, *cuts]).tolist()
    return Histogram(edges=tuple(float(bounds[b - 1]) for b in cuts),
                     counts=tuple(sums[1:-1]), below=sums[0], above=sums[-1],
                     missing=int(missing))


def exact_moments(f: FineCounts, center: float) -> dict[str, Any]:
    """Mean and standard deviation (ddof 0) of all the values, from the pass's sums."""
    n = f.present
    if not n or f.sum is None or f.sum_sq is None:
        return {}
    m1 = f.sum / n
    return {"mean": center + m1, "std": math.sqrt(max(f.sum_sq / n - m1 * m1, 0.0))}


def _histogram(h: Histogram) -> dict[str, Any]:
    return {"edges": list(h.edges), "counts": list(h.counts), "below": h.below,
            "above": h.above, "missing": h.missing, "total": h.total}


def _extremes(bounds: tuple[float, float] | None) -> dict[str, float]:
    return {} if bounds is None else {"min": bounds[0], "max": bounds[1]}


def ks_grid(sample: np.ndarray, resolution: int) -> FineGrid | None:
    """The fine KS grid of a feature: centre the median, scale the interquartile range / 1.349
    (the standard deviation of a normal law; else the standard deviation, else 1), and
    ``SOFTSIGN_BUCKETS * resolution`` softsign buckets. A bucket then holds at most
    ~1.52/resolution of a normal reference (~1.07/resolution of a Cauchy one), as the atan
    grid of ``resolution`` buckets of profiles before layout 4 did, whose transcendental per
    value cost the warehouse a third more CPU. None without a sample or a resolution."""
    if not len(sample) or resolution <= 0:
        return None
    q25, center, q75 = (float(v) for v in np.quantile(sample, (0.25, 0.5, 0.75)))
    scale = (q75 - q25) / 1.349 or float(np.std(sample)) or 1.0
    return FineGrid(center, scale, math.ceil(resolution * SOFTSIGN_BUCKETS))


def pack_counts(counts: np.ndarray) -> str:
    """Dense counts as text for the JSON profile: ``u<w>:`` and base64 of zlib of
    little-endian unsigned integers of the fewest bytes ``w`` (1, 2, 4 or 8) that hold the
    largest count (20,001 buckets of 1M rows take ~15 kB, not the ~300 kB of a JSON list;
    every check decodes them, and inflating 1- or 2-byte counts takes a fraction of the time
    of 8-byte ones)."""
    counts = np.asarray(counts)
    top = int(counts.max()) if len(counts) else 0
    width = next(w for w in (1, 2, 4, 8) if top < 256**w)
    raw = counts.astype(f"<u{width}").tobytes()
    return f"u{width}:" + base64.b64encode(zlib.compress(raw)).decode("ascii")


def unpack_counts(text: str) -> np.ndarray:
    """The inverse of :func:`pack_counts` (text without the ``u<w>:`` prefix, as profiles
    stored before it, holds 8-byte counts)."""
    width, sep, body = text.partition(":")
    dtype = f"<{width}" if sep else "<u8"
    return np.frombuffer(zlib.decompress(base64.b64decode(body if sep else text)),
                         dtype=dtype).astype(np.int64)


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
    if payload.get("schema") not in READABLE or payload.get("fingerprint") != fingerprint(p):
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


def column_samples(wh: Warehouse, table: Any, columns: Sequence[str], size: int,
                   where: Sequence[Predicate]) -> dict[str, np.ndarray]:
    """A bounded sample of each column's finite values, drawn :data:`SAMPLE_BATCH` columns
    at a time so that Python never holds more than ``size`` rows of that many columns (each
    batch is its own random sample: only the columns' own distributions are used)."""
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(columns), SAMPLE_BATCH):
        batch = list(columns[start:start + SAMPLE_BATCH])
        rows = wh.sample(table, batch, size, where)
        out.update({c: _floats(r.get(c) for r in rows) for c in batch})
        del rows
    return out
