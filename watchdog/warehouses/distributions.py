"""Distribution facts for drift, answered in the warehouse so that only counts leave it.

These are methods of :class:`~watchdog.warehouses.sqlbase.SqlWarehouse` (bound there by
name, to keep that module small): every numeric column's bins in one scan, top-K category
counts with the rest folded into "other", the counts of known values of several columns in
one statement, mean absolute values (for attribution columns), extremes, and fine buckets
for KS. Their queries are sqlglot trees (``drift_sql.py``, ``tree_sql.py``), rendered by
each adapter's dialect; this module reads the rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import CategoryCounts, FineCounts, FineGrid, Histogram, Predicate, TableRef

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from watchdog.warehouses.sqlbase import SqlWarehouse, Statement
else:
    np = lazy("numpy")

#: A fine KS grid: a ``models.FineGrid``, or ``(center, scale, resolution)`` for its
#: default map (see :func:`ks_counts`).
KsGrid = FineGrid | tuple[float, float, int]

#: Features per fine-KS statement: bounds the rows held in Python (and the database's
#: hash tables) to about 16 × resolution.
KS_BATCH = 16


def check_edges(edges: Sequence[float]) -> tuple[float, ...]:
    """``edges`` as floats; ValueError unless at least two, ascending (ties allowed), finite."""
    out = tuple(float(e) for e in edges)
    if len(out) < 2 or list(out) != sorted(out) or not all(map(math.isfinite, out)):
        raise ValueError(f"histogram edges must be >= 2 ascending finite numbers: {out}")
    return out


# -- facts (called by SqlWarehouse methods) ----------------------------------------------------


def histogram(
    self: SqlWarehouse, table: TableRef, column: str, edges: Sequence[float],
    where: Sequence[Predicate] = (),
) -> Histogram:
    """See :meth:`Warehouse.histogram`."""
    edges = check_edges(edges)
    stmt = self.render("histogram", table=table, column=column, edges=edges, where=where)
    k = len(edges) - 1
    tally = {int(b): int(n) for b, n in self._rows(stmt)}
    return Histogram(
        edges=edges, counts=tuple(tally.get(i, 0) for i in range(k)),
        below=tally.get(-1, 0), above=tally.get(k, 0), missing=tally.get(-2, 0),
    )


def histograms(
    self: SqlWarehouse, table: TableRef, edges: Mapping[str, Sequence[float]],
    where: Sequence[Predicate] = (),
) -> dict[str, Histogram]:
    """Histograms of several numeric columns over their own edges, in one scan."""
    checked = {column: check_edges(e) for column, e in edges.items()}
    if not checked:
        return {}
    stmt = self.render("histograms", table=table, edges=checked, where=where)
    rows = self._rows(stmt)
    values = [int(v or 0) for v in rows[0]] if rows else []
    total, pos, out = values[0], 1, {}
    for column, col_edges in checked.items():
        missing, cumulative = values[pos], values[pos + 1: pos + 1 + len(col_edges)]
        pos += 1 + len(col_edges)
        counts = [b - a for a, b in zip(cumulative[:-1], cumulative[1:], strict=True)]
        out[column] = Histogram(
            edges=col_edges, counts=tuple(counts), below=cumulative[0],
            above=total - missing - cumulative[-1], missing=missing,
        )
    return out


def ks_counts(
    self: SqlWarehouse, table: TableRef, grids: Mapping[str, KsGrid],
    where: Sequence[Predicate] = (), moments: bool = False,
) -> dict[str, FineCounts]:
    """Counts of several numeric columns over fine monotone buckets, one statement per
    :data:`KS_BATCH` columns, one GROUP BY (one pass over the column) each.

    A grid (``models.FineGrid``) puts x in bucket
    ``floor(R * (g((x - center) / scale) + 1) / 2)``, 0 … R, ``g(t) = t / (1 + |t|)`` (or
    ``2 atan(t) / pi``), so each bucket holds a small share (~2/R at most) of data shaped
    like the reference. Returns ``{column: FineCounts}``: ``resolution + 1`` counts,
    the missing count (NULL and NaN), and with ``moments`` the sums of ``x - center`` and of
    its square. Used for KS and Wasserstein with bounded errors (``stats.ks_bounds``,
    ``stats.wasserstein_bounds``) and, summed over the buckets between the bins' edges, for
    the bins themselves (``models.FineCounts``).
    """
    if not grids:
        return {}
    names = list(grids)
    counts = {n: np.zeros(int(g[2]) + 1, dtype=np.int64) for n, g in grids.items()}
    missing = dict.fromkeys(names, 0)
    sums = {n: [0.0, 0.0] for n in names}
    for start in range(0, len(names), KS_BATCH):
        batch = {n: grids[n] for n in names[start:start + KS_BATCH]}
        stmt = self.render("ks_counts", table=table, grids=batch, where=where, moments=moments)
        for j, (buckets, n, s1, s2) in _unpack(_read(self, stmt), len(batch)).items():
            name = names[start + j]
            missing[name] += int(n[buckets < 0].sum())
            present = buckets >= 0
            np.add.at(counts[name], np.clip(buckets[present], 0, len(counts[name]) - 1),
                      n[present])
            sums[name][0] += s1
            sums[name][1] += s2
    return {n: FineCounts(counts=counts[n], missing=missing[n],
                          sum=sums[n][0] if moments else None,
                          sum_sq=sums[n][1] if moments else None) for n in names}


def _read(self: SqlWarehouse, stmt: Statement) -> list[tuple[Any, ...]]:
    """The fine counts' rows. Packed (one row per feature), read column by column: DuckDB
    hands each list over as one numpy array (``fetchnumpy``), where ``fetchall`` builds a
    Python int per element (~250,000 for a 100k-row x 16-column check, ~20 ms, and as long
    again to turn them into arrays). Unpacked rows (one per bucket) are read as rows: through
    columns they would be transposed twice."""
    if not self.PACKED_KS_COUNTS:
        return self._rows(stmt)
    return list(zip(*self._columns(stmt), strict=True))


def _unpack(rows: Sequence[tuple[Any, ...]], features: int
            ) -> dict[int, tuple[NDArray[np.int64], NDArray[np.int64], float, float]]:
    """``{feature: (buckets, counts, sum, sum of squares)}`` from ``(feature, bucket, count[,
    s1, s2])`` rows or from ``(feature, [bucket * 2**40 + count, ...][, s1, s2])`` rows, the
    list as a Python list or a numpy array (the sums of the missing bucket, -1, are left
    out)."""
    out = {}
    if rows and isinstance(rows[0][1], list | np.ndarray):
        for r in rows:
            v = np.asarray(r[1], dtype=np.int64)
            out[int(r[0])] = (v >> 40, v & (2**40 - 1), *_sums(r[2:]))
        return out
    by_feature: dict[int, list[tuple[Any, ...]]] = {j: [] for j in range(features)}
    for r in rows:
        by_feature[int(r[0])].append(r)
    for j, group in by_feature.items():
        table = np.asarray([(int(r[1]), int(r[2])) for r in group], dtype=np.int64)
        table = table.reshape(-1, 2)
        present = [r[3:] for r in group if int(r[1]) >= 0]
        s1 = sum(float(x[0] or 0) for x in present if x)
        s2 = sum(float(x[1] or 0) for x in present if x)
        out[j] = (table[:, 0], table[:, 1], s1, s2)
    return out


def _sums(values: Sequence[Any]) -> tuple[float, float]:
    if len(values) < 2:
        return 0.0, 0.0
    return _number(values[0]), _number(values[1])


def _number(value: Any) -> float:
    """A sum as a float, 0 for a NULL (None, or numpy's masked value from an array fetch)."""
    return 0.0 if value is None or value is np.ma.masked else float(value)


def extremes(
    self: SqlWarehouse, table: TableRef, columns: Sequence[str],
    where: Sequence[Predicate] = (),
) -> dict[str, tuple[float, float] | None]:
    """``{column: (min, max)}`` of each numeric column's values (NULL and NaN ignored; None
    when it has none), one scan."""
    if not columns:
        return {}
    rows = self._rows(self.render("extremes", table=table, columns=columns, where=where))
    values = rows[0] if rows else (None,) * (2 * len(columns))
    out: dict[str, tuple[float, float] | None] = {}
    for i, c in enumerate(columns):
        lo, hi = values[2 * i], values[2 * i + 1]
        out[c] = None if lo is None or hi is None else (float(lo), float(hi))
    return out


def category_counts(
    self: SqlWarehouse, table: TableRef, column: str, *, limit: int = 50,
    where: Sequence[Predicate] = (),
) -> CategoryCounts:
    """The ``limit`` most frequent values (as text) and the rest, one scan; see
    :class:`CategoryCounts`."""
    stmt = self.render("top_values", table=table, column=column, limit=limit, where=where)
    rows = self._rows(stmt)
    total = int(rows[0][2]) if rows else 0
    missing = sum(int(n) for v, n, _ in rows if v is None)
    top = [(str(v), int(n)) for v, n, _ in rows if v is not None][:limit]
    other = total - missing - sum(n for _, n in top)
    return CategoryCounts(counts=tuple(top), other=other, missing=missing)


def value_counts(
    self: SqlWarehouse, table: TableRef, values: Mapping[str, Sequence[str]],
    where: Sequence[Predicate] = (),
) -> dict[str, CategoryCounts]:
    """Counts of known values of several columns (compared as text), one statement."""
    known = {column: [str(v) for v in vs] for column, vs in values.items()}
    if not known:
        return {}
    names = list(known)
    tally: list[dict[str, int]] = [{} for _ in names]
    other, missing = [0] * len(names), [0] * len(names)
    stmt = self.render("value_counts", table=table, values=known, where=where)
    for feature, slot, value, n in self._rows(stmt):
        j, n = int(feature), int(n)
        if int(slot) == -1:
            missing[j] += n
        elif int(slot) == 1:
            other[j] += n
        else:
            tally[j][str(value)] = tally[j].get(str(value), 0) + n
    return {column: CategoryCounts(counts=tuple((v, tally[j].get(v, 0)) for v in known[column]),
                                   other=other[j], missing=missing[j])
            for j, column in enumerate(names)}


def abs_means(
    self: SqlWarehouse, table: TableRef, columns: Sequence[str],
    where: Sequence[Predicate] = (),
) -> dict[str, float | None]:
    """Mean absolute value of each column (NULL/NaN ignored; None when no value)."""
    if not columns:
        return {}
    rows = self._rows(self.render("abs_means", table=table, columns=columns, where=where))
    values = rows[0] if rows else (None,) * len(columns)
    return {c: None if v is None else float(v) for c, v in zip(columns, values, strict=True)}
