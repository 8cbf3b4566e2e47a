"""Diff two schema snapshots: pure functions, snapshots in, :class:`SchemaChange` list out.

Tables are keyed ``schema.table``. Renames come from hints (the audit log's DDL, parsed in
``schema_audit.py``) where there are some; otherwise a heuristic pairs a dropped and an
added object and marks the rename ``probable``:

- a column: exactly one dropped and one added column at the same position with the same
  type (Postgres, DuckDB and SQLite keep a renamed column's position; a dropped column
  re-added lands at the end);
- a table: exactly one dropped and one created table in the same schema with the same
  columns (names and types, in order).

Type changes are judged per normalised family (:func:`type_compat`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from watchdog.models import Column, SchemaChange

#: Kinds that only add: they break no reader.
ADDITIVE = frozenset({"table_created", "column_added"})

_INT_BITS = {
    **dict.fromkeys(["tinyint", "int1", "utinyint"], 8),
    **dict.fromkeys(["smallint", "int2", "usmallint", "smallserial", "short", "int16"], 16),
    **dict.fromkeys(["integer", "int", "int4", "serial", "uinteger", "signed", "int32"], 32),
    **dict.fromkeys(["bigint", "int8", "bigserial", "ubigint", "long", "int64"], 64),
    **dict.fromkeys(["hugeint", "uhugeint", "int128"], 128),
}
_FLOAT_BITS = {"real": 32, "float4": 32, "float": 32, "double": 64, "float8": 64,
               "double precision": 64}
#: Decimal digits an integer of that many bits needs.
_INT_DIGITS = {8: 3, 16: 5, 32: 10, 64: 19, 128: 39}


@dataclass(frozen=True, slots=True)
class RenameHints:
    """Renames read from the audit log: ``tables[old] = new`` and ``columns[(table, old)]``."""

    tables: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[tuple[str, str], str] = field(default_factory=dict)


def _canon(raw: str) -> tuple[str, tuple[int, ...]]:
    """``"NUMERIC(12, 3)"`` → ``("numeric", (12, 3))``."""
    text = re.sub(r"\s+", " ", raw.lower().replace('"', "")).strip()
    params = tuple(int(n) for n in re.findall(r"\d+", text[text.find("("):])) if "(" in text \
        else ()
    base = re.sub(r"\(.*?\)", "", text).strip()
    return re.sub(r"\s+", " ", base), params


def _same_type(a: str, b: str) -> bool:
    return a == b or _canon(a) == _canon(b)


def _compare(old: tuple[int, ...], new: tuple[int, ...]) -> str:
    """Parameters (lengths, precisions): none means unbounded."""
    if not new:
        return "widening"
    if not old:
        return "narrowing"
    if len(old) == len(new):
        if all(n >= o for o, n in zip(old, new, strict=True)):
            return "widening"
        if all(n <= o for o, n in zip(old, new, strict=True)):
            return "narrowing"
    return "changed"


def _decimal(old: tuple[int, ...], new: tuple[int, ...]) -> str:
    if not new:
        return "widening"
    if not old:
        return "narrowing"
    o_int, o_scale = old[0] - (old[1:] or (0,))[0], (old[1:] or (0,))[0]
    n_int, n_scale = new[0] - (new[1:] or (0,))[0], (new[1:] or (0,))[0]
    if n_int >= o_int and n_scale >= o_scale:
        return "widening"
    return "narrowing"


def _ranked(table: Mapping[str, int], old: str, new: str) -> str | None:
    if old in table and new in table and table[old] != table[new]:
        return "widening" if table[new] > table[old] else "narrowing"
    return None


def type_compat(old: Column, new: Column) -> str:
    """How a column's type changed: widening, narrowing, family, or changed (unknown)."""
    (o_base, o_par), (n_base, n_par) = _canon(old.data_type), _canon(new.data_type)
    of, nf = old.type_family, new.type_family
    if of != nf:
        return _cross_family(of, o_base, nf, n_base, n_par)
    if of == "integer":
        return _ranked(_INT_BITS, o_base, n_base) or "changed"
    if of == "float":
        return _ranked(_FLOAT_BITS, o_base, n_base) or "changed"
    if of == "decimal":
        return _decimal(o_par, n_par)
    if o_base == n_base or of in ("string", "binary"):
        return _compare(o_par, n_par)
    return "changed"


def _cross_family(of: str, o_base: str, nf: str, n_base: str, n_par: tuple[int, ...]) -> str:
    if of == "integer" and nf == "decimal":
        bits = _INT_BITS.get(o_base, 64)
        digits = n_par[0] - (n_par[1:] or (0,))[0] if n_par else 1000
        return "widening" if digits >= _INT_DIGITS[bits] else "narrowing"
    if of == "integer" and nf == "float":
        bits, fbits = _INT_BITS.get(o_base, 64), _FLOAT_BITS.get(n_base, 64)
        return "widening" if bits <= fbits // 2 else "narrowing"  # 24/53-bit mantissas
    if of == "date" and nf in ("timestamp", "timestamptz"):
        return "widening"
    return "family"


def _nullability(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def diff_columns(
    table: str, old: Sequence[Column], new: Sequence[Column],
    hints: Mapping[tuple[str, str], str] | None = None,
) -> list[SchemaChange]:
    """Column changes of one table, renames first, then drops, adds, types, nulls, order."""
    if len(new) > len(old) and list(new[: len(old)]) == list(old):  # added at the end only
        return [SchemaChange(kind="column_added", table=table, column=c.name, after=c.data_type)
                for c in new[len(old):]]  # (a migration's ADD COLUMN: the same, 3× sooner)
    hints = hints or {}
    old_by, new_by = {c.name: c for c in old}, {c.name: c for c in new}
    dropped = [c for c in old if c.name not in new_by]
    added = [c for c in new if c.name not in old_by]
    pairs = _column_renames(table, dropped, added, hints)
    renamed_old = {o.name for o, _, _ in pairs}
    renamed_new = {n.name for _, n, _ in pairs}
    out = [SchemaChange(kind="column_renamed", table=table, column=n.name, before=o.name,
                        after=n.name, probable=probable) for o, n, probable in pairs]
    out += [SchemaChange(kind="column_dropped", table=table, column=c.name, before=c.data_type)
            for c in dropped if c.name not in renamed_old]
    out += [SchemaChange(kind="column_added", table=table, column=c.name, after=c.data_type)
            for c in added if c.name not in renamed_new]
    kept = [(old_by[n], new_by[n]) for n in old_by if n in new_by]
    kept += [(o, n) for o, n, _ in pairs]
    for o, n in kept:
        out += _column_changes(table, o, n)
    out += _order_change(table, old, new, {o.name: n.name for o, n in kept})
    return out


def _column_renames(
    table: str, dropped: list[Column], added: list[Column],
    hints: Mapping[tuple[str, str], str],
) -> list[tuple[Column, Column, bool]]:
    added_by = {c.name: c for c in added}
    pairs = []
    for col in dropped:
        target = hints.get((table, col.name))
        if target in added_by:
            pairs.append((col, added_by.pop(target), False))
    paired = {o.name for o, _, _ in pairs}
    rest = [c for c in dropped if c.name not in paired]
    for col in rest:
        same = [a for a in added_by.values() if _looks_renamed(col, a)]
        rivals = [d for d in rest if same and _looks_renamed(d, same[0])]
        if len(same) == 1 and len(rivals) == 1:
            pairs.append((col, added_by.pop(same[0].name), True))
    return pairs


def _looks_renamed(old: Column, new: Column) -> bool:
    return old.position == new.position and _same_type(old.data_type, new.data_type)


def _column_changes(table: str, old: Column, new: Column) -> list[SchemaChange]:
    out = []
    if not _same_type(old.data_type, new.data_type):
        out.append(SchemaChange(kind="type_changed", table=table, column=new.name,
                                before=old.data_type, after=new.data_type,
                                compat=type_compat(old, new)))
    if old.nullable != new.nullable:
        out.append(SchemaChange(kind="nullability_changed", table=table, column=new.name,
                                before=_nullability(old.nullable),
                                after=_nullability(new.nullable)))
    return out


def _order_change(
    table: str, old: Sequence[Column], new: Sequence[Column], names: Mapping[str, str]
) -> list[SchemaChange]:
    before = [c.name for c in old if c.name in names]
    position = {c.name: i for i, c in enumerate(new)}
    after = sorted(before, key=lambda name: position[names[name]])
    if before == after:
        return []
    return [SchemaChange(kind="order_changed", table=table, before=", ".join(before),
                         after=", ".join(names[n] for n in after))]


def diff(
    before: Mapping[str, Sequence[Column]], after: Mapping[str, Sequence[Column]],
    hints: RenameHints | None = None,
) -> list[SchemaChange]:
    """Every change from ``before`` to ``after`` (tables keyed ``schema.table``)."""
    hints = hints or RenameHints()
    gone = [t for t in before if t not in after]
    new = [t for t in after if t not in before]
    renames = _table_renames(before, after, gone, new, hints)
    out: list[SchemaChange] = []
    for old, target, probable in renames:
        out.append(SchemaChange(kind="table_renamed", table=old, before=old, after=target,
                                probable=probable))
        if target in after:
            out += diff_columns(target, before[old], after[target], hints.columns)
    moved = {o for o, _, _ in renames} | {t for _, t, _ in renames}
    out += [SchemaChange(kind="table_dropped", table=t) for t in gone if t not in moved]
    out += [SchemaChange(kind="table_created", table=t) for t in new if t not in moved]
    for table in after:
        if table in before and before[table] != after[table]:
            out += diff_columns(table, before[table], after[table], hints.columns)
    return out


def _signature(columns: Sequence[Column]) -> tuple[tuple[str, str], ...]:
    return tuple((c.name, _canon(c.data_type)[0]) for c in columns)


def _table_renames(
    before: Mapping[str, Sequence[Column]], after: Mapping[str, Sequence[Column]],
    gone: list[str], new: list[str], hints: RenameHints,
) -> list[tuple[str, str, bool]]:
    out = [(old, hints.tables[old], False) for old in gone if old in hints.tables]
    done = {o for o, _, _ in out} | {t for _, t, _ in out}
    rest_gone = [t for t in gone if t not in done]
    rest_new = [t for t in new if t not in done]
    for old in rest_gone:
        schema = old.rsplit(".", 1)[0]
        same = [t for t in rest_new if t.rsplit(".", 1)[0] == schema
                and _signature(after[t]) == _signature(before[old])]
        rivals = [g for g in rest_gone if same and g.rsplit(".", 1)[0] == schema
                  and _signature(before[g]) == _signature(after[same[0]])]
        if len(same) == 1 and len(rivals) == 1:
            out.append((old, same[0], True))
    return out
