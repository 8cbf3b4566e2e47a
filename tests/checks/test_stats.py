"""Every drift statistic against scipy or an independent formula, on the same data, to 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.spatial import distance

from watchdog.checks import stats
from watchdog.checks.drift.profile import SOFTSIGN_BUCKETS

TOL = 1e-9


@pytest.fixture
def samples() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(0, 1, 3000), rng.normal(0.3, 1.2, 2000)


@pytest.fixture
def counts() -> tuple[np.ndarray, np.ndarray]:
    return np.array([120, 340, 0, 55, 485]), np.array([100, 300, 25, 0, 575])


def _textbook_psi(ref: list[int], cur: list[int], eps: float = 1e-4) -> float:
    """PSI as the README defines it, written with plain floats: only an empty bucket's share
    (exactly 0) becomes eps; every other share, however small, is used as it is."""
    n_ref, n_cur = sum(ref), sum(cur)
    total = 0.0
    for a, b in zip(ref, cur, strict=True):
        p = a / n_ref if a else eps
        q = b / n_cur if b else eps
        total += (q - p) * math.log(q / p)
    return total


def test_psi_matches_the_textbook_sum_with_eps_for_empty_bins(counts) -> None:
    ref, cur = counts
    assert stats.psi(ref, cur) == pytest.approx(_textbook_psi(list(ref), list(cur)), abs=TOL)
    assert stats.psi(ref, ref) == 0.0


def test_psi_keeps_small_non_empty_shares_as_they_are() -> None:
    # shares of 1e-6 and 5e-5 are below eps but not empty: flooring them to 1e-4 (the old
    # code) moves PSI by ~5e-4 here, far past the tolerance
    ref = [1_000_000 - 60, 1, 50, 0, 9]
    cur = [1_000_000 - 115, 50, 1, 60, 4]
    expected = _textbook_psi(ref, cur)
    assert stats.psi(ref, cur) == pytest.approx(expected, abs=TOL)
    floored = sum((max(b / sum(cur), 1e-4) - max(a / sum(ref), 1e-4))
                  * math.log(max(b / sum(cur), 1e-4) / max(a / sum(ref), 1e-4))
                  for a, b in zip(ref, cur, strict=True))
    assert abs(floored - expected) > 1e-4  # the test tells the two rules apart


def test_jensen_shannon_is_scipys_distance_with_natural_log(counts, samples) -> None:
    ref, cur = counts
    assert stats.jensen_shannon(ref, cur) == pytest.approx(distance.jensenshannon(ref, cur),
                                                           abs=TOL)
    edges = stats.quantile_edges(samples[0], 10)
    a = np.histogram(samples[0], edges)[0]
    b = np.histogram(samples[1], edges)[0]
    assert stats.jensen_shannon(a, b) == pytest.approx(distance.jensenshannon(a, b), abs=TOL)
    assert stats.jensen_shannon([1, 0], [0, 1]) == pytest.approx(math.sqrt(math.log(2)), abs=TOL)


def test_l_infinity_is_the_largest_share_difference(counts) -> None:
    ref, cur = counts
    diffs = [abs(a / ref.sum() - b / cur.sum()) for a, b in zip(ref, cur, strict=True)]
    assert stats.l_infinity(ref, cur) == pytest.approx(max(diffs), abs=TOL)


def test_chi2_pvalue_is_scipys_homogeneity_test_even_with_an_unseen_category(counts) -> None:
    ref, cur = counts
    expected = sps.chi2_contingency(np.vstack([ref, cur]), correction=False).pvalue
    assert stats.chi2_pvalue(ref, cur) == pytest.approx(expected, abs=TOL)
    ref2, cur2 = np.array([500, 300, 200, 0]), np.array([480, 310, 190, 20])  # "other" unseen
    expected2 = sps.chi2_contingency(np.vstack([ref2[:3], cur2[:3]]), correction=False)
    assert stats.chi2_pvalue(ref2[:3], cur2[:3]) == pytest.approx(expected2.pvalue, abs=TOL)
    full = sps.chi2_contingency(np.vstack([ref2, cur2]), correction=False).pvalue
    assert stats.chi2_pvalue(ref2, cur2) == pytest.approx(full, abs=TOL)
    assert stats.chi2_pvalue([5], [7]) == 1.0


def test_ks_on_samples_equals_scipy_statistic_and_asymptotic_pvalue(samples) -> None:
    ref, cur = samples
    d, p = stats.ks_samples(ref, cur)
    expected = sps.ks_2samp(ref, cur, method="asymp")
    assert d == pytest.approx(expected.statistic, abs=TOL)
    assert p == pytest.approx(expected.pvalue, abs=TOL)
    with_nan = np.append(ref, [np.nan, np.inf])
    assert stats.ks_samples(with_nan, cur)[0] == pytest.approx(expected.statistic, abs=TOL)


def test_ks_on_counts_is_exact_when_values_sit_on_the_edges() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.poisson(3.0, 4000), rng.poisson(3.4, 3000)
    edges = list(range(0, 20))
    a = stats.bin_counts(ref, edges)
    b = stats.bin_counts(cur, edges)
    d = stats.ks_counts([a[1], *a[0], a[2]], [b[1], *b[0], b[2]])
    assert d == pytest.approx(sps.ks_2samp(ref, cur).statistic, abs=TOL)


def test_wasserstein_equals_scipy_and_is_normalised_by_the_reference_std(samples) -> None:
    ref, cur = samples
    w = sps.wasserstein_distance(ref, cur)
    assert stats.wasserstein(ref, cur) == pytest.approx(w, abs=TOL)
    assert stats.wasserstein_normed(ref, cur) == pytest.approx(w / np.std(ref), abs=TOL)
    assert stats.wasserstein_normed(ref, cur, ref_std=2.0) == pytest.approx(w / 2.0, abs=TOL)
    assert stats.wasserstein_normed([1.0, 1.0], [1.0, 2.0]) == pytest.approx(0.5 / 1e-3)


def test_bin_counts_follow_the_warehouse_convention() -> None:
    values = [np.nan, -1.0, 0.0, 0.5, 1.0, 1.0, 2.0, 3.0, np.nan]
    counts, below, above, missing = stats.bin_counts(values, [0.0, 1.0, 2.0])
    assert (counts, below, above, missing) == ([2, 3], 1, 1, 2)
    rng = np.random.default_rng(1)
    x = rng.normal(size=1000)
    edges = stats.quantile_edges(x, 8)
    got, below, above, _ = stats.bin_counts(x, edges)
    assert got == list(np.histogram(x, edges)[0]) and below == above == 0


def test_quantile_edges_collapse_ties_and_handle_constants() -> None:
    assert stats.quantile_edges([1, 1, 2, 2, 3], 4) == [1.0, 2.0, 3.0]
    assert stats.quantile_edges([5, 5, 5], 10) == [5.0, 5.0]
    assert stats.quantile_edges([np.nan], 10) == []
    x = np.arange(101.0)
    assert stats.quantile_edges(x, 4) == list(np.quantile(x, [0, .25, .5, .75, 1]))


def test_missing_rate_change_and_relative_change() -> None:
    assert stats.missing_rate_change(10, 100, 30, 200) == pytest.approx(0.05, abs=TOL)
    assert stats.missing_rate_change(0, 0, 0, 0) == 0.0
    assert stats.relative_change(0.2, 0.3) == pytest.approx(0.5, abs=TOL)
    assert stats.relative_change(0.0, 0.3) is None


def test_rank_changes_and_spearman() -> None:
    ref, cur = [0.9, 0.5, 0.1, 0.3], [0.2, 0.6, 0.05, 0.4]
    moves, rho = stats.rank_changes(ref, cur)
    assert moves == [-2, 1, 0, 1]
    assert rho == pytest.approx(sps.spearmanr(ref, cur).statistic, abs=TOL)
    tied = [0.4, 0.1, 0.4, 0.9, 0.1, 0.4]  # ties rank by position, as scipy's "ordinal"
    moves, _ = stats.rank_changes(tied, tied[::-1])
    ref_rank = sps.rankdata([-x for x in tied], method="ordinal")
    cur_rank = sps.rankdata([-x for x in tied[::-1]], method="ordinal")
    assert moves == [int(a - b) for a, b in zip(ref_rank, cur_rank, strict=True)]


@pytest.mark.parametrize("seed", range(6))
def test_ks_bounds_bracket_the_exact_statistic(seed: int) -> None:
    """Over any ordered buckets, scipy's statistic lies in [d, d + error], and the error is
    at most the largest min(reference share, current share) of a bucket."""
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(0, 1, 3000), rng.normal(0.2 * seed, 1 + 0.1 * seed, 2000)
    edges = np.sort(rng.normal(0, 1.5, 12 + 20 * seed))
    a, b = stats.bin_counts(ref, list(edges)), stats.bin_counts(cur, list(edges))
    r, c = [a[1], *a[0], a[2]], [b[1], *b[0], b[2]]
    d, err = stats.ks_bounds(r, c)
    exact = sps.ks_2samp(ref, cur).statistic
    assert d == pytest.approx(stats.ks_counts(r, c), abs=TOL)
    assert d - TOL <= exact <= d + err + TOL
    assert err <= float(np.max(np.minimum(stats.shares(r), stats.shares(c)))) + TOL
    assert stats.ks_bounds([], []) == (0.0, 0.0)


def test_ks_pvalue_uses_the_limiting_law_for_large_samples() -> None:
    n = stats.KSTWO_MAX_N * 4
    d = 1.2 / np.sqrt(n / 2)
    assert stats.ks_pvalue(d, n, n) == pytest.approx(sps.kstwobign.sf(1.2), abs=TOL)
    assert stats.ks_pvalue(d, n, n) == pytest.approx(sps.kstwo.sf(d, n / 2), abs=2e-3)


def _bucket(x: np.ndarray, center: float, scale: float, resolution: int, how: str
            ) -> np.ndarray:
    """The fine grid's bucket of each value, from its definition (``models.FineGrid``)."""
    t = (x - center) / scale
    g = t / (1 + np.abs(t)) if how == "softsign" else 2 * np.arctan(t) / np.pi
    return np.floor(resolution * (g + 1) / 2).astype(int)


def _fine(x: np.ndarray, center: float, scale: float, resolution: int,
          how: str = "softsign") -> np.ndarray:
    return np.bincount(_bucket(x, center, scale, resolution, how), minlength=resolution + 1)


@pytest.mark.parametrize("how", ["softsign", "atan"])
def test_grid_boundaries_start_the_buckets_that_the_definition_gives(how: str) -> None:
    """Each boundary x_b is the first value of bucket b: within a few ulps, values just
    above it are in b and just below in b - 1; the boundaries ascend, the last is +inf."""
    center, scale, resolution = 3.0, 0.5, 2000
    bounds = stats.grid_boundaries(center, scale, resolution, how)
    assert len(bounds) == resolution and bounds[-1] == np.inf
    assert np.all(np.diff(bounds[:-1]) > 0)
    inner = bounds[:-1]
    b = np.arange(1, resolution)
    gap = 1e-9 * np.maximum(1.0, np.abs(inner))
    assert np.array_equal(_bucket(inner + gap, center, scale, resolution, how), b)
    assert np.array_equal(_bucket(inner - gap, center, scale, resolution, how), b - 1)
    pos = stats.grid_position(inner, center, scale, resolution, how)
    assert np.allclose(pos, b, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="unknown fine grid map"):
        stats.grid_boundaries(center, scale, resolution, "tanh")


def test_softsign_grid_of_1_28_r_buckets_holds_no_more_of_a_normal_law_than_atan_of_r() -> None:
    """The profile's grid (1.28 x ks_resolution softsign buckets) keeps the largest share
    of a normal reference, the KS error bound, at what the atan grid of ks_resolution gave."""
    r = 20_000

    def largest(how: str, buckets: int) -> float:
        edges = np.concatenate([[-np.inf], stats.grid_boundaries(0.0, 1.0, buckets, how)])
        return float(np.max(np.diff(sps.norm.cdf(edges))))

    soft, atan = largest("softsign", math.ceil(SOFTSIGN_BUCKETS * r)), largest("atan", r)
    assert soft <= atan and soft <= 1.52 / r
    assert largest("softsign", r) > 1.9 / r  # the same count of softsign buckets: coarser


@pytest.mark.parametrize("how", ["softsign", "atan"])
@pytest.mark.parametrize("shape", ["normal", "lognormal", "uniform", "discrete"])
def test_wasserstein_from_fine_counts_brackets_scipy_on_the_raw_values(shape: str,
                                                                       how: str) -> None:
    rng = np.random.default_rng(11)
    a, b = {
        "normal": (rng.normal(0, 1, 50_000), rng.normal(0.3, 1.1, 40_000)),
        "lognormal": (rng.lognormal(0, 1, 50_000), rng.lognormal(0.1, 1, 40_000)),
        "uniform": (rng.uniform(-3, 3, 50_000), rng.uniform(-2, 4, 40_000)),
        "discrete": (rng.poisson(4, 50_000) * 1.0, rng.poisson(4.5, 40_000) * 1.0),
    }[shape]
    center, scale, resolution = float(np.median(a)), float(np.std(a)), 20_000
    bounds = stats.grid_boundaries(center, scale, resolution, how)
    lo, hi = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
    got = stats.wasserstein_bounds(_fine(a, center, scale, resolution, how),
                                   _fine(b, center, scale, resolution, how), bounds, lo, hi)
    assert got is not None
    w, err = got
    exact = sps.wasserstein_distance(a, b)
    assert abs(w - exact) <= err + 1e-12
    assert err / np.std(a) <= 1e-3 and abs(w - exact) / np.std(a) <= 1e-3


def test_wasserstein_from_counts_needs_the_extremes_only_for_the_unbounded_buckets() -> None:
    bounds = np.array([0.0, 1.0, 2.0])  # buckets: (-inf, 0), [0, 1), [1, 2), [2, inf)
    assert stats.wasserstein_bounds([0, 5, 5, 0], [0, 0, 10, 0], bounds) == (0.5, 1.0)
    assert stats.wasserstein_bounds([1, 5, 5, 0], [0, 0, 10, 0], bounds) is None
    w, err = stats.wasserstein_bounds([1, 5, 5, 0], [0, 0, 10, 0], bounds, lo=-1.0, hi=2.0)
    assert w - err <= sps.wasserstein_distance([-1.0] + [0.5] * 5 + [1.5] * 5,
                                               [1.5] * 10) <= w + err
    assert stats.wasserstein_bounds([0, 0, 0, 0], [0, 1, 0, 0], bounds) is None  # empty side
