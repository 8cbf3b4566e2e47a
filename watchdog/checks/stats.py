"""Drift statistics: pure, vectorised numpy/scipy math on counts and samples. No I/O.

Conventions (and where they differ from Evidently 0.7, see README "kind: drift"):

- Distributions come as **counts** over the same buckets (numeric bins from the
  reference's quantiles plus a "below" and an "above" bucket; categories plus an "other"
  bucket for unseen ones). Missing values are never in the buckets: their rate is a drift
  signal of its own (:func:`missing_rate_change`).
- Logarithms are natural. Jensen-Shannon is the *distance* (square root of the
  divergence), as ``scipy.spatial.distance.jensenshannon(p, q)``: 0 .. sqrt(ln 2).
- PSI replaces an empty bucket's share (exactly 0) with ``eps`` (1e-4) on either side,
  without renormalising; a small but non-empty share is used as it is. Evidently uses
  ``min_nonzero / 1e6`` when the smallest non-zero share is at most 1e-4, which makes one
  near-empty bin dominate its PSI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from watchdog.lazy import lazy

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

    Floats = NDArray[np.float64]
else:
    np = lazy("numpy")

# scipy is imported where a p-value is computed, not with the module: scipy.stats alone took
# 0.5 s of a 1.1 s `watchdog run --once` start-up (scipy.special's kernels are what is used)

#: Share given to an empty bucket in PSI (both sides), so that ln(q/p) stays finite.
PSI_EPS = 1e-4
#: Floor of the reference standard deviation when normalising Wasserstein (as Evidently).
STD_FLOOR = 1e-3
#: Above this effective sample size KS p-values come from the limiting distribution.
KSTWO_MAX_N = 10_000


def shares(counts: ArrayLike) -> Floats:
    """Counts as shares of their total (all zeros for an empty distribution)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    return c / total if total > 0 else np.zeros_like(c)


def psi(ref_counts: ArrayLike, cur_counts: ArrayLike, eps: float = PSI_EPS) -> float:
    """Population stability index: sum over buckets of ``(q - p) * ln(q / p)``.

    ``p``/``q`` are the reference/current shares; only a share of exactly 0 (an empty
    bucket) counts as ``eps``: a bucket with a share below ``eps`` keeps its own share.
    """
    p, q = shares(ref_counts), shares(cur_counts)
    p = np.where(p == 0.0, eps, p)
    q = np.where(q == 0.0, eps, q)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float:
    """Jensen-Shannon distance (natural log): ``sqrt((KL(p‖m) + KL(q‖m)) / 2)``, m = (p+q)/2."""
    p, q = shares(ref_counts), shares(cur_counts)
    m = (p + q) / 2

    def kl(a: Floats) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / m[nz])))

    return float(np.sqrt(max((kl(p) + kl(q)) / 2, 0.0)))


def l_infinity(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float:
    """The largest absolute difference of shares over the buckets."""
    return float(np.max(np.abs(shares(ref_counts) - shares(cur_counts)), initial=0.0))


def chi2_pvalue(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float:
    """p-value of the chi-squared test of homogeneity on the 2×K table (no Yates correction).

    Buckets empty on both sides are dropped; a category seen only in the current window is
    fine here (Evidently's goodness-of-fit form divides by its zero expected count).
    """
    table = np.vstack([np.asarray(ref_counts, float), np.asarray(cur_counts, float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    from scipy import special

    return float(special.chdtrc(table.shape[1] - 1, statistic))  # chi2.sf


def ks_pvalue(statistic: float, n_ref: int, n_cur: int) -> float:
    """Two-sided asymptotic KS p-value for ``D``: as ``ks_2samp(method="asymp")`` (``kstwo``)
    up to :data:`KSTWO_MAX_N` effective rows, above that the limiting Kolmogorov law
    (``kstwobign``, within 0.002 of it there; ``kstwo`` takes up to 0.6 s at 500k rows)."""
    if n_ref == 0 or n_cur == 0:
        return 1.0
    en = n_ref * n_cur / (n_ref + n_cur)
    if en > KSTWO_MAX_N:
        from scipy import special

        return float(np.clip(special.kolmogorov(statistic * np.sqrt(en)), 0.0, 1.0))  # kstwobign
    from scipy import stats as sps

    return float(np.clip(sps.kstwo.sf(statistic, np.round(en)), 0.0, 1.0))


def ks_samples(ref: ArrayLike, cur: ArrayLike) -> tuple[float, float]:
    """Exact two-sample KS statistic ``D = sup |F_ref - F_cur|`` and its p-value."""
    a, b = np.sort(_finite(ref)), np.sort(_finite(cur))
    if not len(a) or not len(b):
        return 0.0, 1.0
    points = np.concatenate([a, b])
    fa = np.searchsorted(a, points, side="right") / len(a)
    fb = np.searchsorted(b, points, side="right") / len(b)
    d = float(np.max(np.abs(fa - fb)))
    return d, ks_pvalue(d, len(a), len(b))


def ks_counts(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float:
    """KS statistic from bucket counts: the largest CDF gap at the bucket edges.

    Exact when every value sits on an edge (e.g. integers binned per value); otherwise a
    lower bound of the sample statistic, off by at most the largest bucket's share.
    """
    fa = np.cumsum(shares(ref_counts))
    fb = np.cumsum(shares(cur_counts))
    return float(np.max(np.abs(fa - fb), initial=0.0))


def ks_bounds(ref_counts: ArrayLike, cur_counts: ArrayLike) -> tuple[float, float]:
    """KS from counts over the same ordered buckets, with its error: ``(d, error)``.

    ``d`` is :func:`ks_counts` (the largest CDF gap at the bucket boundaries), and the exact
    statistic of the values behind the counts lies in ``[d, d + error]``: inside bucket ``i``
    the gap ``g = F_ref - F_cur`` rises by at most the bucket's reference share ``r_i`` and
    falls by at most its current share ``c_i``, so ``|g| <= max(g_i + r_i, c_i - g_i)`` with
    ``g_i`` the gap where the bucket starts; ``error <= max_i min(r_i, c_i)``, i.e. at most
    the largest reference share of a bucket. Values repeated exactly (atoms) make it
    conservative.
    """
    gaps = _gaps(ref_counts, cur_counts)
    return (0.0, 0.0) if gaps is None else _ks(gaps)


class _Gaps(NamedTuple):
    """The gap ``F_ref - F_cur`` of counts over the same ordered buckets, on the span from
    the first to the last bucket that holds values (outside it the gap is 0 before and its
    last value after, so nothing else is needed)."""

    first: int
    stop: int
    buckets: int  # all of them, the span's and the others
    totals: tuple[float, float]
    r: Floats  # the span's shares
    c: Floats
    before: Floats  # the gap where each bucket starts
    after: Floats  # and where it ends
    upper: Floats  # the largest |gap| inside each bucket: max(before + r, c - before)


def _gaps(ref_counts: ArrayLike, cur_counts: ArrayLike) -> _Gaps | None:
    """The gaps of two count vectors (None when no bucket holds a value). The values are
    those of the whole vectors to the last bit: numpy's cumsum adds in order, and the
    empty buckets before the span add 0.0."""
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    used = np.flatnonzero(r + c)
    if not len(used):
        return None
    first, stop = int(used[0]), int(used[-1]) + 1
    r_total, c_total = r.sum(), c.sum()
    rs = r[first:stop] / r_total if r_total > 0 else np.zeros(stop - first)
    cs = c[first:stop] / c_total if c_total > 0 else np.zeros(stop - first)
    step = rs - cs
    after = np.cumsum(step)
    before = after - step
    return _Gaps(first, stop, len(r), (float(r_total), float(c_total)), rs, cs, before, after,
                 np.maximum(before + rs, cs - before))


def _ks(g: _Gaps) -> tuple[float, float]:
    d = float(np.max(np.abs(g.after)))
    upper = float(np.max(g.upper))
    if g.stop < g.buckets:  # the buckets after the span: max(last + 0, 0 - last)
        upper = max(upper, abs(float(g.after[-1])))
    return d, max(upper - d, 0.0)


def grid_boundaries(center: float, scale: float, resolution: int,
                    map: str = "softsign") -> Floats:
    """Where buckets 1 … ``resolution`` of a fine grid (``models.FineGrid``) start: bucket
    ``b`` holds ``x_b <= x < x_(b+1)`` with ``x_b = center + scale * g⁻¹(2b/R - 1)``,
    ``g⁻¹(y) = y / (1 - |y|)`` (softsign) or ``tan(pi * y / 2)`` (atan); bucket 0 is
    everything below ``x_1``."""
    b = np.arange(1, resolution + 1, dtype=np.float64)
    if map == "atan":
        out = center + scale * np.tan(np.pi * (b / resolution - 0.5))
    elif map == "softsign":
        y = b * (2.0 / resolution) - 1.0
        with np.errstate(divide="ignore"):
            out = center + scale * (y / (1.0 - np.abs(y)))
    else:
        raise ValueError(f"unknown fine grid map {map!r}")
    out[-1] = np.inf  # g = 1: only +inf (or a float past ~1e16 scales) reaches bucket R
    return out


def grid_position(x: ArrayLike, center: float, scale: float, resolution: int,
                  map: str = "softsign") -> Floats:
    """Where values fall on a fine grid, continuously: ``R * (g((x - center) / scale) + 1)
    / 2`` (its floor is the bucket; ``grid_boundaries``)."""
    t = (np.asarray(x, dtype=np.float64) - center) / scale
    if map == "atan":
        return resolution * (np.arctan(t) / np.pi + 0.5)
    if map == "softsign":
        return resolution * (t / (1.0 + np.abs(t)) + 1.0) / 2.0
    raise ValueError(f"unknown fine grid map {map!r}")


def wasserstein_bounds(ref_counts: ArrayLike, cur_counts: ArrayLike, boundaries: ArrayLike,
                       lo: float | None = None, hi: float | None = None
                       ) -> tuple[float, float] | None:
    """The first Wasserstein distance ``∫ |F_ref - F_cur| dx`` of the values behind counts
    over the same ordered buckets, with its error: ``(w, error)``.

    ``boundaries`` are where buckets 1 … k start (bucket 0 is unbounded below, bucket k
    unbounded above, and an infinite boundary leaves its neighbour unbounded);
    ``lo``/``hi`` are the smallest and largest value of both sides, needed only when an
    unbounded bucket holds values (else None is returned). Inside a
    bucket of width ``w`` the gap ``g = F_ref - F_cur`` stays within ``[g0 - c, g0 + r]``
    (``g0`` the gap where the bucket starts, ``r``/``c`` its shares), so the exact distance
    lies between the sums of ``w ·`` the smallest and the largest ``|g|`` there; ``w`` is
    the estimate with both CDFs linear inside each bucket, and ``error`` its largest
    distance to either end of that interval. With a fine grid it is ~ the mean bucket width
    (for normal data 2·E(1 + |t|)²·scale/resolution ≈ 7.2·scale/resolution with the softsign
    map, 2π·scale/resolution with atan).
    """
    gaps = _gaps(ref_counts, cur_counts)
    return None if gaps is None else _wasserstein(gaps, boundaries, lo, hi)


def fine_bounds(ref_counts: ArrayLike, cur_counts: ArrayLike, boundaries: ArrayLike,
                lo: float | None = None, hi: float | None = None
                ) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """:func:`ks_bounds` and :func:`wasserstein_bounds` of the same counts, from one
    computation of their gaps (the same values as the two calls)."""
    gaps = _gaps(ref_counts, cur_counts)
    if gaps is None:
        return (0.0, 0.0), None
    return _ks(gaps), _wasserstein(gaps, boundaries, lo, hi)


def _wasserstein(g: _Gaps, boundaries: ArrayLike, lo: float | None, hi: float | None
                 ) -> tuple[float, float] | None:
    if g.totals[0] <= 0 or g.totals[1] <= 0:
        return None
    # only the buckets from the first to the last that holds values count (the others have
    # no width here), so the arithmetic runs on that span alone
    first, stop = g.first, g.stop
    x = np.concatenate([[-np.inf], np.asarray(boundaries, dtype=np.float64), [np.inf]])
    starts, ends = x[first:stop], x[first + 1:stop + 1]
    if lo is not None:
        starts = np.maximum(starts, lo)
    if hi is not None:
        ends = np.minimum(ends, hi)
    with np.errstate(invalid="ignore"):
        width = np.maximum(ends - starts, 0.0)
    if not np.isfinite(width).all():
        return None
    before, after = g.before, g.after
    # the gap's range inside each bucket is [before - c, before + r]: the largest |gap| is
    # max(before + r, c - before) (``g.upper``), the smallest 0 where the range holds 0, else
    # before - c (above 0) or -(before + r) (below 0)
    # sums as np.sum(width * v): a BLAS dot product (``@``) may start threads for this
    upper = float(np.sum(width * g.upper))
    closest = np.maximum(np.maximum(before - g.c, -(before + g.r)), 0.0)
    lower = float(np.sum(width * closest))
    g0, g1 = np.abs(before), np.abs(after)
    area = g0 + g1
    crossing = np.flatnonzero(before * after < 0)  # the gap crosses 0 inside the bucket
    if len(crossing):
        a0, a1, both = g0[crossing], g1[crossing], area[crossing]
        area /= 2
        area[crossing] = (a0 * a0 + a1 * a1) / (2 * both)
    else:
        area /= 2
    estimate = float(np.sum(width * area))
    return estimate, max(estimate - lower, upper - estimate, 0.0)


def wasserstein(ref: ArrayLike, cur: ArrayLike) -> float:
    """First Wasserstein distance of two samples: the area between their CDFs."""
    a, b = np.sort(_finite(ref)), np.sort(_finite(cur))
    if not len(a) or not len(b):
        return 0.0
    points = np.sort(np.concatenate([a, b]))
    widths = np.diff(points)
    fa = np.searchsorted(a, points[:-1], side="right") / len(a)
    fb = np.searchsorted(b, points[:-1], side="right") / len(b)
    return float(np.sum(np.abs(fa - fb) * widths))


def wasserstein_normed(ref: ArrayLike, cur: ArrayLike, ref_std: float | None = None) -> float:
    """Wasserstein distance divided by the reference's standard deviation (ddof=0).

    ``ref_std`` defaults to the sample's; it is floored at :data:`STD_FLOOR`.
    """
    std = float(np.std(_finite(ref))) if ref_std is None else float(ref_std)
    return wasserstein(ref, cur) / max(std, STD_FLOOR)


def missing_rate_change(ref_missing: int, ref_total: int, cur_missing: int,
                        cur_total: int) -> float:
    """Current missing rate minus the reference's (both 0 for empty data)."""
    ref_rate = ref_missing / ref_total if ref_total else 0.0
    cur_rate = cur_missing / cur_total if cur_total else 0.0
    return cur_rate - ref_rate


def quantile_edges(sample: ArrayLike, bins: int) -> list[float]:
    """Distinct quantiles of ``sample`` at ``0, 1/bins, …, 1`` (linear interpolation).

    Ties collapse (a discrete column gets fewer bins); a constant column gets ``[v, v]``,
    one closed bin. An empty sample gets no edges.
    """
    x = _finite(sample)
    if not len(x):
        return []
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, bins + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    return [float(e) for e in edges]


def bin_counts(values: ArrayLike, edges: Sequence[float]) -> tuple[list[int], int, int, int]:
    """``(counts, below, above, missing)`` of ``values`` over ``edges`` as the warehouse
    computes them (bins ``[e_i, e_i+1)``, the last one closed; NaN is missing)."""
    v = np.asarray(values, dtype=np.float64)
    nan = np.isnan(v)
    x = v[~nan]
    e = np.asarray(edges, dtype=np.float64)
    below_each = np.searchsorted(np.sort(x), e, side="left")  # values < each edge
    top = int(np.sum(x <= e[-1]))
    counts = np.diff(np.append(below_each[:-1], top))
    return [int(c) for c in counts], int(below_each[0]), int(len(x) - top), int(nan.sum())


def rank_changes(ref_means: Sequence[float], cur_means: Sequence[float]) -> tuple[list[int],
                                                                                   float]:
    """Attribution ranking: per feature ``ref_rank - cur_rank`` (positive: moved up, 1 is the
    largest mean |attribution|), and Spearman's rank correlation of the two orders."""
    r = _ordinal_ranks(-np.asarray(ref_means, float))
    c = _ordinal_ranks(-np.asarray(cur_means, float))
    n = len(r)
    rho = 1.0 if n < 2 else 1 - 6 * float(np.sum((r - c) ** 2)) / (n * (n * n - 1))
    return [int(x) for x in r - c], rho


def _ordinal_ranks(x: Floats) -> NDArray[np.int64]:
    """1 … n in ascending order, ties by position (``scipy.stats.rankdata(method="ordinal")``)."""
    ranks = np.empty(len(x), dtype=np.int64)
    ranks[np.argsort(x, kind="stable")] = np.arange(1, len(x) + 1)
    return ranks


def relative_change(old: float, new: float) -> float | None:
    """``(new - old) / |old|``, None when ``old`` is 0."""
    return (new - old) / abs(old) if old else None


def _finite(values: ArrayLike) -> Floats:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]
