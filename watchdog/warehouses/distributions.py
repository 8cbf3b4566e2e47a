"""Distribution facts for drift, answered in the warehouse so that only counts leave it.

These are methods of :class:`~watchdog.warehouses.sqlbase.SqlWarehouse` (bound there by
name, to keep that module small): every numeric column's bins in one scan (cumulative
``COUNT(CASE WHEN x < :edge ...)`` aggregates, which every dialect runs vectorised and which
need no GROUP BY per column), top-K category counts with the rest folded into "other", and
mean absolute values (for attribution columns), and fine buckets for KS (one GROUP BY per
column, all in one statement). The templates are portable SQL (``CAST AS
TEXT``, window functions over aggregates, positional GROUP BY); an adapter that needs
another spelling overrides the template in its ``QUERIES``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import CategoryCounts, FineCounts, Histogram, Predicate, TableRef

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    np = lazy("numpy")

Parts = tuple[dict[str, str], dict[str, Any]]
#: A fine KS grid: ``(center, scale, resolution)``, see :func:`ks_counts`.
KsGrid = tuple[float, float, int]

QUERIES: dict[str, str] = {
    "histogram": "SELECT {bin} AS bin, COUNT(*) AS row_count\nFROM {table}{where}\nGROUP BY 1",
    "histograms": "SELECT COUNT(*) AS row_count,\n  {aggregates}\nFROM {table}{where}",
    "top_values": (
        "SELECT value, row_count, total_rows\nFROM (\n"
        "  SELECT CAST({column} AS TEXT) AS value, COUNT(*) AS row_count,\n"
        "    SUM(COUNT(*)) OVER () AS total_rows,\n"
        "    ROW_NUMBER() OVER (ORDER BY CASE WHEN {column} IS NULL THEN 0 ELSE 1 END,\n"
        "      COUNT(*) DESC, CAST({column} AS TEXT)) AS position\n"
        "  FROM {table}{where}\n  GROUP BY {column}\n) AS ranked\n"
        "WHERE position <= :limit\nORDER BY position"
    ),
    "value_counts": (
        "SELECT CASE WHEN {column} IS NULL THEN -1 WHEN {known} THEN 0 ELSE 1 END AS slot,\n"
        "  CASE WHEN {known} THEN CAST({column} AS TEXT) END AS value,\n"
        "  COUNT(*) AS row_count\nFROM {table}{where}\nGROUP BY 1, 2"
    ),
    # one GROUP BY per column in one statement: (feature, bucket, count[, sums]) rows,
    # bucket -1 holding the missing values
    "ks_counts": "{selects}",
}

#: DuckDB spellings (merged into its QUERIES): value counts group first and classify the
#: groups (not every row); fine KS counts come back as one row per feature, a list of
#: ``bucket * 2**40 + count`` (unordered, so no sort; bounded memory under a memory_limit).
DUCKDB_QUERIES: dict[str, str] = {
    "value_counts": (
        "SELECT CASE WHEN {column} IS NULL THEN -1 WHEN {known} THEN 0 ELSE 1 END AS slot,\n"
        "  CASE WHEN {known} THEN {column} END AS value,\n"
        "  SUM(wd_rows) AS row_count\nFROM (\n"
        "  SELECT CAST({column} AS TEXT) AS {column}, COUNT(*) AS wd_rows\n"
        "  FROM {table}{where}\n  GROUP BY 1\n) AS grouped\nGROUP BY 1, 2"
    ),
    "ks_counts": (
        "SELECT feature, list(bucket * 1099511627776 + row_count) AS packed{moments}\n"
        "FROM (\n{selects}\n) AS fine\nGROUP BY feature"
    ),
}
#: DuckDB's per-feature sums of the moments (the missing bucket's sums are NaN or NULL).
DUCKDB_MOMENTS = (",\n  SUM(s1) FILTER (WHERE bucket >= 0) AS s1,"
                  " SUM(s2) FILTER (WHERE bucket >= 0) AS s2")
#: Features per fine-KS statement: bounds the rows held in Python (and the database's
#: hash tables) to about 16 × resolution.
KS_BATCH = 16
#: Default spelling of a conditional count; DuckDB's ``count_if`` is about 3× faster.
COUNT_WHEN = "COUNT(CASE WHEN {condition} THEN 1 END)"


def _where(conds: Sequence[str]) -> str:
    return "\nWHERE " + "\n  AND ".join(conds) if conds else ""


def check_edges(edges: Sequence[float]) -> tuple[float, ...]:
    """``edges`` as floats; ValueError unless at least two, ascending (ties allowed), finite."""
    out = tuple(float(e) for e in edges)
    if len(out) < 2 or list(out) != sorted(out) or not all(map(math.isfinite, out)):
        raise ValueError(f"histogram edges must be >= 2 ascending finite numbers: {out}")
    return out


# -- rendering (SqlWarehouse.BUILDERS) -------------------------------------------------------


def build_histogram(
    self: SqlWarehouse, table: TableRef, column: str, edges: Sequence[float],
    where: Sequence[Predicate] = (),
) -> Parts:
    """One column's bins by GROUP BY over a CASE (``models.Histogram``'s bin numbers: -2
    missing, -1 below, 0..k-1 the bins, k above)."""
    conds, params = self._predicates(where)
    col = self.quote(column)
    k = len(edges) - 1
    params.update({f"edge_{i}": float(e) for i, e in enumerate(edges)})
    whens = [f"WHEN {self.MISSING.format(column=col)} THEN -2", f"WHEN {col} < :edge_0 THEN -1"]
    whens += [f"WHEN {col} < :edge_{i + 1} THEN {i}" for i in range(k - 1)]
    whens.append(f"WHEN {col} <= :edge_{k} THEN {k - 1}")
    case = "CASE\n    " + "\n    ".join(whens) + f"\n    ELSE {k}\n  END"
    return {"table": self.qualified(table), "bin": case, "where": _where(conds)}, params


def build_histograms(
    self: SqlWarehouse, table: TableRef, edges: Mapping[str, Sequence[float]],
    where: Sequence[Predicate] = (),
) -> Parts:
    conds, params = self._predicates(where)
    count_when = self.COUNT_WHEN
    aggregates = []
    for j, (column, col_edges) in enumerate(edges.items()):
        col = self.quote(column)
        aggregates.append(count_when.format(condition=self.MISSING.format(column=col)))
        last = len(col_edges) - 1
        for i, edge in enumerate(col_edges):
            params[f"c{j}_e{i}"] = float(edge)
            op = "<=" if i == last else "<"
            aggregates.append(count_when.format(condition=f"{col} {op} :c{j}_e{i}"))
    return {"table": self.qualified(table), "aggregates": ",\n  ".join(aggregates),
            "where": _where(conds)}, params


def build_top_values(
    self: SqlWarehouse, table: TableRef, column: str, limit: int,
    where: Sequence[Predicate] = (),
) -> Parts:
    conds, params = self._predicates(where)
    params["limit"] = int(limit) + 1  # room for the NULL group, ranked first
    return {"table": self.qualified(table), "column": self.quote(column),
            "where": _where(conds)}, params


def build_value_counts(
    self: SqlWarehouse, table: TableRef, column: str, values: Sequence[str],
    where: Sequence[Predicate] = (),
) -> Parts:
    conds, params = self._predicates(where)
    col = self.quote(column)
    names = {f"v{i}": str(v) for i, v in enumerate(values)}
    params.update(names)
    binds = ", ".join(f":{n}" for n in names)
    known = f"CAST({col} AS TEXT) IN ({binds})" if names else "1 = 0"
    return {"table": self.qualified(table), "column": col, "known": known,
            "where": _where(conds)}, params


def build_ks_counts(
    self: SqlWarehouse, table: TableRef, grids: Mapping[str, KsGrid],
    where: Sequence[Predicate] = (), moments: bool = False,
) -> Parts:
    conds, params = self._predicates(where)
    selects = []
    for j, (column, grid) in enumerate(grids.items()):
        col = self.quote(column)
        center, scale, resolution = grid
        params.update({f"k{j}_c": float(center), f"k{j}_s": float(scale),
                       f"k{j}_m": resolution / math.pi, f"k{j}_h": resolution / 2})
        bucket = f"CAST(FLOOR(:k{j}_m * ATAN(({col} - :k{j}_c) / :k{j}_s) + :k{j}_h) AS INTEGER)"
        missing = self.MISSING.format(column=col)
        sums = (f",\n  SUM({col} - :k{j}_c) AS s1,"
                f" SUM(({col} - :k{j}_c) * ({col} - :k{j}_c)) AS s2") if moments else ""
        selects.append(f"SELECT {j} AS feature,\n  CASE WHEN {missing} THEN -1 ELSE {bucket} END"
                       f" AS bucket,\n  COUNT(*) AS row_count{sums}\n"
                       f"FROM {self.qualified(table)}{_where(conds)}\nGROUP BY 2")
    extra = self.KS_MOMENTS if moments else ""
    return {"selects": "\nUNION ALL\n".join(selects), "moments": extra}, params


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

    A grid ``(center, scale, resolution)`` puts x in bucket
    ``floor(resolution * (atan((x - center) / scale) / pi + 1/2))``, 0 … resolution: equal
    shares of a Cauchy law fitted to the column, so each bucket holds a small share of data
    shaped like the reference. Returns ``{column: FineCounts}``: ``resolution + 1`` counts,
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
        for j, (buckets, n, s1, s2) in _unpack(self._rows(stmt), len(batch)).items():
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


def _unpack(rows: Sequence[tuple[Any, ...]], features: int
            ) -> dict[int, tuple[NDArray[np.int64], NDArray[np.int64], float, float]]:
    """``{feature: (buckets, counts, sum, sum of squares)}`` from ``(feature, bucket, count[,
    s1, s2])`` rows or from ``(feature, [bucket * 2**40 + count, ...][, s1, s2])`` rows (the
    sums of the missing bucket, -1, are left out)."""
    out = {}
    if rows and isinstance(rows[0][1], list):
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
    return float(values[0] or 0.0), float(values[1] or 0.0)


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
    self: SqlWarehouse, table: TableRef, column: str, *, values: Sequence[str] | None = None,
    limit: int = 50, where: Sequence[Predicate] = (),
) -> CategoryCounts:
    """Counts of a column's values (as text), one scan; see :class:`CategoryCounts`."""
    if values is None:
        stmt = self.render("top_values", table=table, column=column, limit=limit, where=where)
        rows = self._rows(stmt)
        total = int(rows[0][2]) if rows else 0
        missing = sum(int(n) for v, n, _ in rows if v is None)
        top = [(str(v), int(n)) for v, n, _ in rows if v is not None][:limit]
        other = total - missing - sum(n for _, n in top)
        return CategoryCounts(counts=tuple(top), other=other, missing=missing)
    values = [str(v) for v in values]
    stmt = self.render("value_counts", table=table, column=column, values=values, where=where)
    tally: dict[str, int] = {}
    other = missing = 0
    for slot, value, n in self._rows(stmt):
        if int(slot) == -1:
            missing += int(n)
        elif int(slot) == 1:
            other += int(n)
        else:
            tally[str(value)] = tally.get(str(value), 0) + int(n)
    counts = tuple((v, tally.get(v, 0)) for v in values)
    return CategoryCounts(counts=counts, other=other, missing=missing)


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
