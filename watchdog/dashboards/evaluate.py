"""Evaluate the queries watchdog's widgets use over what watchdog emitted (the jsonl sink),
for the offline preview. Covers only the query forms :mod:`.queries` writes: a metric with
a tag scope (``,``-separated, or ``AND`` with ``key IN (…)``), ``by {…}``, ``.as_count()``;
formulas ``queryN``, ``queryN <op> <number>`` and ``top(queryN, n, 'max', 'desc')``; event
searches of quoted text, ``key:value`` and ``(a OR b)``.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_METRIC = re.compile(r"^(?P<agg>\w+):(?P<name>[\w.]+)\{(?P<scope>[^}]*)\}"
                     r"(?: by \{(?P<by>[^}]*)\})?(?P<count>\.as_count\(\))?$")
_IN = re.compile(r"^(?P<key>[\w.\-]+) IN \((?P<values>[^)]*)\)$")
_ARITH = re.compile(r"^(?P<q>\w+)(?: (?P<op>[*/+-]) (?P<n>-?[\d.]+))?$")
_TOP = re.compile(r"^top\((?P<q>\w+), (?P<n>\d+), '(?P<by>\w+)', '(?P<order>asc|desc)'\)$")
_AGG: dict[str, Callable[[list[float]], float]] = {
    "sum": sum, "avg": statistics.fmean, "max": max, "min": min}

Series = dict[str, list[tuple[float, float]]]  # group label → (time, value) points


@dataclass(frozen=True, slots=True)
class Emitted:
    """What watchdog sent, read back from a jsonl sink file."""

    metrics: list[dict[str, Any]] = field(default_factory=list)
    service_checks: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Emitted:
        out = cls()
        buckets = {"metric": out.metrics, "service_check": out.service_checks,
                   "event": out.events}
        seen = 0.0  # a metric sent without a time was sent with its neighbours
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            when = record.get("timestamp") or record.get("date_happened")
            seen = float(when) if when else seen
            if record.get("type") == "metric" and not when:
                record = {**record, "timestamp": seen}
            if record.get("type") in buckets:
                buckets[record["type"]].append(record)
        return out


def tag_map(tags: Iterable[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for t in tags:
        key, _, value = t.partition(":")
        out[key.lower()].add(value.lower())
    return out


def scope_filter(scope: str, variables: Mapping[str, str]) -> dict[str, set[str]]:
    """``{a:b,$env}`` or ``a:b AND k IN (x, y)`` → key → accepted values."""
    parts = scope.split(" AND ") if " AND " in scope else scope.split(",")
    wanted: dict[str, set[str]] = {}
    for part in (p.strip() for p in parts):
        if part.startswith("$"):
            part = f"{part[1:]}:{variables.get(part[1:], '*')}"
        if match := _IN.match(part):
            values = {v.strip().lower() for v in match["values"].split(",")}
            wanted[match["key"]] = values
        elif ":" in part:
            key, _, value = part.partition(":")
            wanted[key] = {value.lower()}
    return {k: v for k, v in wanted.items() if "*" not in v}


def matches(tags: Iterable[str], wanted: Mapping[str, set[str]]) -> bool:
    have = tag_map(tags)
    return all(have.get(k, set()) & v for k, v in wanted.items())


def metric_series(query: str, emitted: Emitted, variables: Mapping[str, str]) -> Series:
    """The points of a metric query, grouped by its ``by`` tags and aggregated per time."""
    parsed = _METRIC.match(query)
    if parsed is None:
        raise ValueError(f"not a metric query the preview understands: {query}")
    wanted = scope_filter(parsed["scope"], variables)
    by = [b.strip() for b in (parsed["by"] or "").split(",") if b.strip()]
    buckets: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for m in emitted.metrics:
        if m["name"] != parsed["name"] or not matches(m.get("tags", ()), wanted):
            continue
        have = tag_map(m.get("tags", ()))
        label = ",".join(f"{b}:{'/'.join(sorted(have.get(b, {'n/a'})))}" for b in by) or "*"
        buckets[label][float(m.get("timestamp") or 0)].append(float(m["value"]))
    agg = _AGG.get(parsed["agg"], statistics.fmean)
    return {label: sorted((ts, agg(vs)) for ts, vs in points.items())
            for label, points in sorted(buckets.items())}


def formula(text: str, named: Mapping[str, Series]) -> Series:
    """A formula over named query results."""
    if top := _TOP.match(text):
        source = named[top["q"]]
        rank = {label: _AGG.get(top["by"], max)([v for _, v in pts])
                for label, pts in source.items() if pts}
        keep = sorted(rank, key=rank.__getitem__, reverse=top["order"] == "desc")
        return {label: source[label] for label in keep[: int(top["n"])]}
    arith = _ARITH.match(text)
    if arith is None:
        raise ValueError(f"not a formula the preview understands: {text}")
    source, op, number = named[arith["q"]], arith["op"], float(arith["n"] or 0)
    ops: dict[str | None, Callable[[float], float]] = {
        None: lambda v: v, "*": lambda v: v * number, "/": lambda v: v / number,
        "+": lambda v: v + number, "-": lambda v: v - number}
    return {label: [(ts, ops[op](v)) for ts, v in pts] for label, pts in source.items()}


def last(series: Series) -> dict[str, float]:
    return {label: pts[-1][1] for label, pts in series.items() if pts}


def event_matches(event: Mapping[str, Any], search: str, variables: Mapping[str, str]) -> bool:
    """Whether an event matches a search of quoted text, ``key:value`` and ``(a OR b)``."""
    phrases = re.findall(r'"([^"]*)"', search)
    rest = re.sub(r'"[^"]*"', " ", search)
    groups = re.findall(r"\(([^)]*)\)", rest)
    singles = re.sub(r"\([^)]*\)", " ", rest).split()
    tags = list(event.get("tags", ()))
    text = f"{event.get('title', '')}\n{event.get('text', '')}"
    if not all(p in text for p in phrases):
        return False
    if not matches(tags, scope_filter(",".join(singles), variables)):
        return False
    return all(any(matches(tags, scope_filter(alt.strip(), variables))
                   for alt in g.split(" OR ")) for g in groups)


def checks(name: str, tags: Sequence[str], emitted: Emitted,
           variables: Mapping[str, str]) -> list[dict[str, Any]]:
    """The latest service check of each tag set, for checks named ``name`` matching ``tags``."""
    wanted = scope_filter(",".join(tags), variables)
    latest: dict[tuple[str, ...], dict[str, Any]] = {}
    for c in emitted.service_checks:
        if c["name"] == name and matches(c.get("tags", ()), wanted):
            latest[tuple(sorted(c.get("tags", ())))] = c
    return list(latest.values())
