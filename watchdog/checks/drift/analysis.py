"""One drift comparison: the current window's buckets, computed in the warehouse, against a
stored reference profile. Shared by the check and by ``watchdog drift report``.

Numeric buckets are ``[below, bins…, above]`` over the profile's edges; categorical buckets
are the profile's categories plus "other" (values not among them: unseen or rare). Missing
values are outside the buckets and compared as a rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.checks import overlap, stats
from watchdog.checks.drift.params import DriftParams
from watchdog.checks.drift.profile import (
    column_samples,
    fine_counts,
    fine_histogram,
    tail_used,
    unpack_counts,
)
from watchdog.errors import QueryError
from watchdog.lazy import lazy
from watchdog.models import CategoryCounts, FineCounts, FineGrid, Predicate, TableRef
from watchdog.warehouses.base import Warehouse

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

#: Statistics whose small values mean drift (drift when below the threshold).
PVALUES = frozenset({"ks_pvalue", "chi2_pvalue"})


@dataclass(slots=True, kw_only=True)
class FeatureDrift:
    """The comparison of one column: buckets, statistics, and which thresholds it crossed."""

    name: str
    type: str  # numeric | categorical
    role: str  # feature | prediction
    labels: list[str]
    ref_counts: list[int]
    cur_counts: list[int]
    ref_missing_rate: float
    cur_missing_rate: float
    cur_rows: int
    statistics: dict[str, float] = field(default_factory=dict)
    crossed: dict[str, float] = field(default_factory=dict)  # statistic -> its threshold
    #: bins mode: the exact KS statistic lies in [ks_statistic, ks_statistic + ks_error]
    ks_error: float | None = None
    #: bins mode: the exact normed Wasserstein distance is within this of ``wasserstein``
    wasserstein_error: float | None = None

    @property
    def drifted(self) -> bool:
        return bool(self.crossed)


@dataclass(slots=True, kw_only=True)
class Attribution:
    """Mean |attribution| of one feature in the reference and the current window."""

    feature: str
    ref_mean_abs: float
    cur_mean_abs: float
    change: float | None  # relative
    rank_change: int  # positive: the feature moved up the ranking


@dataclass(slots=True, kw_only=True)
class DriftAnalysis:
    """Everything one run compared."""

    monitor_id: str
    table: str
    window_start: datetime
    window_end: datetime
    profile_version: int
    reference: dict[str, Any]
    mode: str
    current_rows: int
    features: list[FeatureDrift]
    attributions: list[Attribution] = field(default_factory=list)
    rank_correlation: float | None = None
    #: profiled columns the table no longer has: ``(name, role)``
    missing: list[tuple[str, str]] = field(default_factory=list)
    #: profiled numeric columns whose type is no longer numeric: ``(name, role, family)``
    mismatched: list[tuple[str, str, str]] = field(default_factory=list)
    #: categorical columns with values the reference never had: name → (share, examples)
    unseen: dict[str, tuple[float, list[tuple[str, int]]]] = field(default_factory=dict)

    @property
    def judged(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.role == "feature"]

    @property
    def share_drifted(self) -> float:
        judged = self.judged
        return sum(f.drifted for f in judged) / len(judged) if judged else 0.0


def current_where(p: DriftParams, now: datetime,
                  window: timedelta | None = None) -> list[Predicate]:
    """The current window ``[now - window, now)`` and the monitor's filters."""
    return [*(f.predicate() for f in p.where),
            Predicate(column=p.time_column, op=">=", value=now - (window or p.window)),
            Predicate(column=p.time_column, op="<", value=now)]


def analyse(wh: Warehouse, p: DriftParams, profile: dict[str, Any], version: int,
            now: datetime) -> DriftAnalysis:
    """Compare the current window with ``profile``: only buckets (and, in sample mode, a
    bounded sample) leave the warehouse. A profiled column the table no longer has (or
    whose type changed) is a finding about that column; the others are still compared."""
    return _analyse(wh, p, profile, version, now, p.window)


def _analyse(wh: Warehouse, p: DriftParams, profile: dict[str, Any], version: int,
             now: datetime, window: timedelta) -> DriftAnalysis:
    table = wh.table(p.table)
    where = current_where(p, now, window)
    profiled = profile["features"]
    # the fine buckets and the category counts are asked for while the columns are read,
    # as if every profiled column were still there (so one round trip's time, not three);
    # when one is gone or changed type, they are asked again for the columns left
    counts = overlap.start(_current_fine, wh, table, profiled, where)
    known = overlap.start(_value_counts, wh, table, profiled, where)
    try:
        feats, missing, mismatched = _present(wh, table, p, profiled)
    finally:
        overlap.settle([counts, known])
    if len(feats) == len(profiled):
        fine, categories = counts.result(), known.result()
    else:
        fine = _current_fine(wh, table, feats, where)
        categories = _value_counts(wh, table, feats, where)
    numeric = [n for n, f in feats.items() if f["type"] == "numeric"]
    edges = {n: feats[n]["edges"] for n in numeric if n not in fine}
    hists = wh.histograms(table, edges, where) if edges else {}
    # each fine grid's boundaries, for its bins' edges and for Wasserstein
    boundaries = {n: stats.grid_boundaries(*_grid(feats[n])) for n in fine}
    for n, f in fine.items():
        hists[n] = fine_histogram(f.counts, feats[n]["edge_buckets"], boundaries[n], f.missing)
    bounds = _current_extremes(wh, table, fine, where)
    samples = column_samples(wh, table, numeric, p.sample_size, where) \
        if p.mode == "sample" else {}
    out = []
    for name, ref in feats.items():
        if ref["type"] == "numeric":
            h = hists[name]
            cur = [h.below, *h.counts, h.above]
            fd = _feature(name, ref, _numeric_labels(ref["edges"]), _ref_buckets(ref), cur,
                          h.missing, h.total)
            sample = samples.get(name)
            _numeric_stats(fd, ref, sample if sample is not None and len(sample) else None,
                           fine.get(name), bounds.get(name), boundaries.get(name))
        else:
            cc = categories[name]
            cur = [n for _, n in cc.counts] + [cc.other]
            labels = [*ref["categories"], "(other)"]
            fd = _feature(name, ref, labels, [*ref["counts"], ref["other"]], cur,
                          cc.missing, cc.total)
            _categorical_stats(fd)
        judge(fd, p)
        out.append(fd)
    analysis = DriftAnalysis(
        monitor_id=p.id, table=str(table), window_start=now - window, window_end=now,
        profile_version=version, reference=profile.get("reference", {}), mode=p.mode,
        current_rows=max((f.cur_rows for f in out), default=0), features=out,
        missing=missing, mismatched=mismatched,
    )
    analysis.unseen = _unseen(wh, table, p, feats, out, where)
    _attributions(analysis, wh, p, profile, where)
    return analysis


def early(wh: Warehouse, p: DriftParams, profile: dict[str, Any], version: int,
          now: datetime) -> DriftAnalysis | None:
    """The same comparison over the last ``p.early_window`` only (None when off), so that
    a shift that began recently is seen before it dominates the whole window."""
    if p.early_window is None or p.early_window >= p.window:
        return None
    return _analyse(wh, p, profile, version, now, p.early_window)


def _present(wh: Warehouse, table: TableRef, p: DriftParams, feats: dict[str, Any]
             ) -> tuple[dict[str, Any], list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The profiled features the table still has with a comparable type (one metadata
    query); the missing ones and the ones whose type left the numeric family."""
    from watchdog.checks.drift.profile import NUMERIC_FAMILIES
    from watchdog.errors import TableNotFound

    found = {c.name: c.type_family for c in wh.columns([table]).get(table, [])}
    if not found:
        from watchdog.checks.base import unreadable

        denied = unreadable(wh, [table]).get(table)
        if denied is not None:
            raise denied
        raise TableNotFound(wh.name, f"drift monitor {p.id}: table {table} not found",
                            hint="check the monitor's table, or the grants of watchdog's login")
    folded = {k.casefold(): v for k, v in found.items()}
    kept: dict[str, Any] = {}
    missing, mismatched = [], []
    for name, ref in feats.items():
        family = found.get(name, folded.get(name.casefold()))
        if family is None:
            missing.append((name, ref["role"]))
        elif (ref["type"] == "numeric" and name not in p.numeric
              and family not in NUMERIC_FAMILIES):
            mismatched.append((name, ref["role"], family))
        else:
            kept[name] = ref
    return kept, missing, mismatched


def _unseen(wh: Warehouse, table: TableRef, p: DriftParams, feats: dict[str, Any],
            compared: list[FeatureDrift], where: list[Predicate]
            ) -> dict[str, tuple[float, list[tuple[str, int]]]]:
    """Categorical columns whose reference was complete (every value profiled) and whose
    window holds values outside it above ``p.unseen_share``: their share, and the most
    frequent of them (one more query, only for such a column)."""
    out: dict[str, tuple[float, list[tuple[str, int]]]] = {}
    if p.unseen_share is None:
        return out
    for fd in compared:
        ref = feats[fd.name]
        if fd.type != "categorical" or ref["other"] or not fd.cur_rows:
            continue
        seen = fd.cur_rows - round(fd.cur_missing_rate * fd.cur_rows)
        share = fd.cur_counts[-1] / seen if seen else 0.0
        if share < p.unseen_share:
            continue
        outside = Predicate(column=fd.name, op="not in", value=tuple(ref["categories"]))
        try:  # naming them is a courtesy: a column that compares only as text cannot
            top = list(wh.category_counts(table, fd.name, limit=5,
                                          where=[*where, outside]).counts)
        except QueryError:
            top = []
        out[fd.name] = (share, top)
    return out


def _feature(name: str, ref: dict[str, Any], labels: list[str], ref_counts: list[int],
             cur_counts: list[int], cur_missing: int, cur_total: int) -> FeatureDrift:
    return FeatureDrift(
        name=name, type=ref["type"], role=ref["role"], labels=labels,
        ref_counts=[int(x) for x in ref_counts], cur_counts=[int(x) for x in cur_counts],
        ref_missing_rate=ref["missing"] / ref["total"] if ref["total"] else 0.0,
        cur_missing_rate=cur_missing / cur_total if cur_total else 0.0, cur_rows=cur_total,
    )


def _ref_buckets(ref: dict[str, Any]) -> list[int]:
    return [ref["below"], *ref["counts"], ref["above"]]


def _numeric_labels(edges: Sequence[float]) -> list[str]:
    inner = [f"[{a:.4g}, {b:.4g})" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    if inner:
        inner[-1] = inner[-1][:-1] + "]"
    return [f"< {edges[0]:.4g}", *inner, f"> {edges[-1]:.4g}"]


def _value_counts(wh: Warehouse, table: TableRef, feats: dict[str, Any],
                  where: list[Predicate]) -> dict[str, CategoryCounts]:
    """The current window's counts of the categorical features' profiled values."""
    return wh.value_counts(table, {n: f["categories"] for n, f in feats.items()
                                   if f["type"] != "numeric"}, where)


def _grid(ref: dict[str, Any]) -> FineGrid:
    """The feature's fine grid; profiles of layout 3 hold no map: theirs is ``atan``."""
    ks = ref["ks"]
    return FineGrid(float(ks["center"]), float(ks["scale"]), int(ks["resolution"]),
                    ks.get("map", "atan"))


def _current_fine(wh: Warehouse, table: TableRef, feats: dict[str, Any],
                  where: list[Predicate]) -> dict[str, FineCounts]:
    """The current window's counts over the profile's fine grids: one pass per column
    gives the bins (summed between the profile's edge buckets), KS and Wasserstein."""
    grids = {n: _grid(f) for n, f in feats.items() if f.get("ks") and "edge_buckets" in f}
    return fine_counts(wh, table, grids, where)


def _current_extremes(wh: Warehouse, table: TableRef, fine: dict[str, FineCounts],
                      where: list[Predicate]) -> dict[str, tuple[float, float] | None]:
    """Smallest and largest current value, asked for only where an unbounded end bucket
    of the fine grid holds current values (Wasserstein needs where they end)."""
    tails = [n for n, f in fine.items() if tail_used(f.counts)]
    return wh.extremes(table, tails, where) if tails else {}


def _bins_ks(fd: FeatureDrift, fine: tuple[float, float] | None) -> tuple[float, float]:
    """KS and its error bound from the PSI bins, narrowed by the fine grid's (``fine``) when
    there is one: the exact value lies in both intervals."""
    d, err = stats.ks_bounds(fd.ref_counts, fd.cur_counts)
    if fine is None:
        return d, err
    fine_d, fine_err = fine
    low, high = max(d, fine_d), min(d + err, fine_d + fine_err)
    return low, max(high - low, 0.0)


def _fine_bounds(ref: dict[str, Any], ref_fine: np.ndarray, fine: np.ndarray,
                 cur_bounds: tuple[float, float] | None, boundaries: np.ndarray
                 ) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """KS from the fine grids with its error bound, and the normed Wasserstein distance
    (``stats.fine_bounds``, divided by the reference's exact standard deviation) with its
    error bound; None for Wasserstein when an unbounded end bucket holds values whose
    extent is unknown."""
    ks = ref["ks"]
    ends = [(ks["min"], ks["max"])] if "min" in ks else []
    ends += [cur_bounds] if cur_bounds is not None else []
    lo = min((e[0] for e in ends), default=None)
    hi = max((e[1] for e in ends), default=None)
    ks_got, got = stats.fine_bounds(ref_fine, fine, boundaries, lo, hi)
    if got is None or ref.get("std") is None:
        return ks_got, None
    std = max(float(ref["std"]), stats.STD_FLOOR)
    return ks_got, (got[0] / std, got[1] / std)


def _numeric_stats(fd: FeatureDrift, ref: dict[str, Any], sample: np.ndarray | None,
                   fine: FineCounts | None = None,
                   cur_bounds: tuple[float, float] | None = None,
                   boundaries: np.ndarray | None = None) -> None:
    r, c = fd.ref_counts, fd.cur_counts
    s = fd.statistics
    s["psi"] = stats.psi(r, c)
    s["jensen_shannon"] = stats.jensen_shannon(r, c)
    if sample is None:
        fine_ks, w = None, None
        if fine is not None and boundaries is not None and ref.get("ks"):
            fine_ks, w = _fine_bounds(ref, unpack_counts(ref["ks"]["counts"]), fine.counts,
                                      cur_bounds, boundaries)
        s["ks_statistic"], fd.ks_error = _bins_ks(fd, fine_ks)
        s["ks_pvalue"] = stats.ks_pvalue(s["ks_statistic"], sum(r), sum(c))
        if w is not None:
            s["wasserstein"], fd.wasserstein_error = w
    else:
        ref_sample = np.asarray(ref.get("sample") or [], dtype=np.float64)
        s["ks_statistic"], s["ks_pvalue"] = stats.ks_samples(ref_sample, sample)
        if len(ref_sample) and len(sample):
            s["wasserstein"] = stats.wasserstein_normed(ref_sample, sample, ref.get("std"))
    s["missing_rate_change"] = fd.cur_missing_rate - fd.ref_missing_rate


def _categorical_stats(fd: FeatureDrift) -> None:
    r, c = fd.ref_counts, fd.cur_counts
    fd.statistics.update(
        psi=stats.psi(r, c), jensen_shannon=stats.jensen_shannon(r, c),
        chi2_pvalue=stats.chi2_pvalue(r, c), l_infinity=stats.l_infinity(r, c),
        missing_rate_change=fd.cur_missing_rate - fd.ref_missing_rate,
    )


def judge(fd: FeatureDrift, p: DriftParams) -> None:
    """Record each configured threshold the feature crosses (none for an empty window)."""
    if fd.cur_rows == 0:
        return
    limits = dict(p.thresholds.numeric if fd.type == "numeric" else p.thresholds.categorical)
    if p.thresholds.missing_rate_change is not None:
        limits["missing_rate_change"] = p.thresholds.missing_rate_change
    for statistic, limit in limits.items():
        value = fd.statistics.get(statistic)
        if value is None:
            continue
        if statistic in PVALUES:
            crossed = value < limit
        else:
            crossed = (abs(value) if statistic == "missing_rate_change" else value) >= limit
        if crossed:
            fd.crossed[statistic] = limit


def _attributions(analysis: DriftAnalysis, wh: Warehouse, p: DriftParams,
                  profile: dict[str, Any], where: list[Predicate]) -> None:
    ref_means = profile.get("attributions") or {}
    features = [f for f, v in ref_means.items() if v is not None and f in p.attribution_columns]
    if not features:
        return
    cur = wh.abs_means(wh.table(p.table), [p.attribution_columns[f] for f in features], where)
    pairs: list[tuple[str, float, float]] = []
    for f in features:
        value = cur[p.attribution_columns[f]]
        if value is not None:
            pairs.append((f, float(ref_means[f]), value))
    if not pairs:
        return
    moves, rho = stats.rank_changes([r for _, r, _ in pairs], [c for _, _, c in pairs])
    analysis.attributions = [
        Attribution(feature=f, ref_mean_abs=r, cur_mean_abs=c,
                    change=stats.relative_change(r, c), rank_change=m)
        for (f, r, c), m in zip(pairs, moves, strict=True)
    ]
    analysis.rank_correlation = rho
