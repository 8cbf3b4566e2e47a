"""A self-contained HTML backtest report: each metric over the lookback's windows per group
(model version), with its baseline and judged band, and the label coverage under it.

One inline SVG chart per metric draws every group's line (one colour each, so versions are
compared side by side); the baseline (dashed: the declared one, else with ``max_drop`` each
group's own, the earlier windows pooled, in its colour) and the edge ``max_drop`` from it
(dotted), the judged band (from ``min`` to ``max`` as thresholds declare them, shaded) and
the judged window (a vertical rule, the last). Windows with fewer than
``min_labelled_rows`` labels have no point. A classifier's estimated metrics
(``metrics.estimated``) of the windows waiting for labels (those of the lookback without
enough labels, and those that ended since the judged one, drawn after it) are hollow points
on a dashed line, with a warning when they are unreliable (miscalibrated scores). Nothing
is fetched when the page is viewed. Pure: data in, text out.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from watchdog.checks.backtest import metrics as bm
from watchdog.checks.backtest.check import Judged, baseline, newest_labelled
from watchdog.checks.backtest.params import BacktestParams
from watchdog.checks.backtest.reference import span
from watchdog.models import BacktestSums

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}section{margin:2em 0}
.legend span{display:inline-block;width:14px;height:3px;margin:0 4px 3px 12px}
table.period{border-collapse:collapse}.period td,.period th{padding:2px 10px;text-align:right}
"""
COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2")
BAND, BASELINE = "#e8eef6", "#555"
Points = list[float | None]


def render(p: BacktestParams, table: str, end: datetime, groups: Sequence[Judged],
           now: datetime) -> str:
    """The whole page for one read of the monitor's tables."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Backtest report: {escape(p.id)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Backtest report: {escape(p.id)}</h1>",
        f"<p>Predictions in <b>{escape(table)}</b> joined to their labels, per "
        f"{escape(_span(p))}, the {p.lookback_windows} windows up to {end:%Y-%m-%d %H:%M} UTC "
        f"(the last is judged; written {now:%Y-%m-%d %H:%M} UTC). A window's metrics are "
        f"drawn once it has {p.min_labelled_rows} labels.</p>",
        *([f"<p>Baseline of max_drop: {escape(span(p))} (per group; a declared baseline "
           f"wins).</p>"] if p.reference else []),
        '<p class="legend">' + "".join(
            f'<span style="background:{COLOURS[i % len(COLOURS)]}"></span>{escape(j.label)}'
            for i, j in enumerate(groups)) + "</p>",
    ]
    if not groups:
        parts.append("<p><b>No predictions in the lookback.</b></p>")
    else:
        parts.append(period_table(p, groups))
    ends = window_ends(p, end, now)
    estimated = [j for j in groups if j.estimates]
    if estimated:
        parts.append("<p>Hollow points on dashed lines: performance estimated from the scores "
                     "before the labels arrive (confidence-based; valid for calibrated scores)."
                     "</p>")
    for j in estimated:
        if j.unreliable:
            parts.append(f'<p class="unreliable"><b>{escape(j.label)}: estimates '
                         f"unreliable</b>: {escape(j.unreliable)}.</p>")
    later = len(ends) - p.lookback_windows
    for name in p.metrics:
        series = [[_value(p, s, name) for s in _windows(p, j)] + [None] * later
                  for j in groups]
        guesses = [[j.estimates.get(at, {}).get(name) for at in ends] for j in groups] \
            if name in bm.ESTIMATED else []
        bases = [judged_baseline(p, j, name) for j in groups]
        parts += [f"<section><h2>{escape(name)}</h2>",
                  chart_svg(p, name, series, guesses, bases), "</section>"]
    coverage = [[bm.coverage(s) for s in _windows(p, j)] + [None] * later for j in groups]
    parts += ["<section><h2>label coverage</h2>",
              chart_svg(p, "label_coverage", coverage), "</section>", "</body></html>"]
    return "\n".join(parts)


def period_table(p: BacktestParams, groups: Sequence[Judged]) -> str:
    """The whole label-complete period (the lookback pooled) per group: the drawn metrics
    with their intervals, as the check sends them (``period.<metric>``)."""
    z = statistics.NormalDist().inv_cdf(0.5 + p.confidence / 2)
    head = "".join(f"<th>{escape(n)}</th>" for n in p.metrics)
    rows = []
    for j in groups:
        s = BacktestSums.total([j.sums, *j.earlier])
        if s.labelled < p.min_labelled_rows:
            cells = f'<td colspan="{len(p.metrics)}">fewer than {p.min_labelled_rows} labels</td>'
        else:
            values, cis = bm.metrics(s, p.task), bm.intervals(s, p.task, z)
            cells = "".join(f"<td>{_cell(values.get(n), cis.get(n))}</td>" for n in p.metrics)
        rows.append(f"<tr><td>{escape(j.label)}</td><td>{s.labelled:,}</td>{cells}</tr>")
    return (f'<table class="period"><caption>The whole period ({p.lookback_windows} windows) '
            f"per group, {p.confidence:.0%} intervals</caption><tr><th>group</th>"
            f"<th>labelled</th>{head}</tr>{''.join(rows)}</table>")


def _cell(value: float | None, ci: tuple[float, float] | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" + (f" ({ci[0]:.3g}–{ci[1]:.3g})" if ci else "")


def window_ends(p: BacktestParams, end: datetime, now: datetime) -> list[datetime]:
    """The end of each window drawn: the lookback's, the judged one's (``end``), and those
    of the windows that ended since (waiting for their labels)."""
    step = p.window.total_seconds()
    last = datetime.fromtimestamp(now.timestamp() // step * step, UTC)
    later = max(int((last - end) / p.window), 0)
    return [end + k * p.window for k in range(1 - p.lookback_windows, later + 1)]


def _windows(p: BacktestParams, j: Judged) -> list[BacktestSums]:
    """The group's windows, oldest first, the judged one last (empty where it had none)."""
    by_end = dict(zip(j.ends, j.earlier, strict=True))
    step = p.window
    last = j.ends[-1] + step if j.ends else None
    if last is None:
        return [BacktestSums()] * (p.lookback_windows - 1) + [j.sums]
    first = last - (p.lookback_windows - 1) * step
    return [by_end.get(first + k * step, BacktestSums())
            for k in range(p.lookback_windows - 1)] + [j.sums]


def _value(p: BacktestParams, s: BacktestSums, name: str) -> float | None:
    if s.labelled < p.min_labelled_rows:
        return None
    return bm.metrics(s, p.task).get(name)


def judged_baseline(p: BacktestParams, j: Judged, name: str) -> float | None:
    """The baseline the check judges the group against: of the window it judged (the newest
    with enough labels, while the judged one waits for them)."""
    if j.sums.labelled < p.min_labelled_rows:
        newest = newest_labelled(p, j)
        j = newest[1] if newest is not None else j
    return baseline(p, j, name)


def reference_lines(p: BacktestParams, name: str, bases: Sequence[float | None]
                    ) -> list[tuple[float, str, str, str]]:
    """``(value, colour, class, what)`` of each baseline line: the declared one (grey), else
    with ``max_drop`` each group's own (the earlier windows pooled, in its colour); and
    with ``max_drop`` the edge it fails past (dotted)."""
    limit = p.thresholds.get(name)
    drop = limit.max_drop if limit else None
    sign = 1 if name in bm.LOWER_IS_BETTER else -1
    declared = p.baseline.get(name)
    if declared is not None:
        drawn = [(declared, BASELINE, "declared baseline")]
    elif drop is not None:
        origin = span(p) if p.reference else "the earlier windows"
        drawn = [(b, COLOURS[i % len(COLOURS)], f"baseline ({origin})")
                 for i, b in enumerate(bases) if b is not None]
    else:
        drawn = []
    out = [(v, colour, "baseline", f"{what} {v:.4g}") for v, colour, what in drawn]
    if drop is not None:
        out += [(v + sign * drop, colour, "drop-edge", f"{what} {v:.4g} {'+' if sign > 0 else '-'} "
                 f"max_drop {drop:g} = {v + sign * drop:.4g}: fails past it")
                for v, colour, what in drawn]
    return out


def chart_svg(p: BacktestParams, name: str, series: Sequence[Points],
              estimated: Sequence[Points] = (), bases: Sequence[float | None] = (),
              width: int = 900, height: int = 220) -> str:
    """One metric's lines (one per group) over the windows, with its band and baselines,
    and its estimated lines (hollow points, dashed) where labels are still missing."""
    limit = p.thresholds.get(name)
    refs = reference_lines(p, name, bases)
    marks = [v for v in (limit.min if limit else None, limit.max if limit else None)
             if v is not None] + [v for v, *_ in refs]
    values = [v for line in (*series, *estimated) for v in line if v is not None] + marks
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.1 or 0.05
    low, high = low - pad, high + pad
    n = max((len(line) for line in series), default=p.lookback_windows)
    left, bottom, plot_w, plot_h = 50, height - 20, width - 60, height - 40

    def x(k: int) -> float:
        return left + plot_w * k / max(n - 1, 1)

    def y(v: float) -> float:
        return bottom - plot_h * (v - low) / (high - low)

    out = [f'<svg width="{width}" height="{height}" role="img" data-metric="{escape(name)}"'
           f' aria-label="{escape(name)} per window">']
    if limit is not None and (limit.min is not None or limit.max is not None):
        top = y(limit.max) if limit.max is not None else bottom - plot_h
        floor = y(limit.min) if limit.min is not None else bottom
        out.append(f'<rect class="band" x="{left}" y="{top:.1f}" width="{plot_w}" '
                   f'height="{max(floor - top, 0):.1f}" fill="{BAND}"/>')
    for at, colour, css, what in refs:
        dash = "4 3" if css == "baseline" else "1 3"
        out.append(f'<line class="{css}" x1="{left}" x2="{left + plot_w}" y1="{y(at):.1f}" '
                   f'y2="{y(at):.1f}" stroke="{colour}" stroke-dasharray="{dash}">'
                   f"<title>{escape(what)}</title></line>")
    for i, line in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        for k, v in enumerate(line):
            if v is not None:
                out.append(f'<circle class="point" cx="{x(k):.1f}" cy="{y(v):.1f}" r="3" '
                           f'fill="{colour}"><title>{v:.4g}</title></circle>')
        pts = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in enumerate(line) if v is not None)
        out.append(f'<polyline class="line" points="{pts}" fill="none" stroke="{colour}"/>')
    for i, line in enumerate(estimated):
        colour = COLOURS[i % len(COLOURS)]
        for k, v in enumerate(line):
            if v is not None:
                out.append(f'<circle class="estimate" cx="{x(k):.1f}" cy="{y(v):.1f}" r="3" '
                           f'fill="white" stroke="{colour}"><title>estimated {v:.4g}</title>'
                           "</circle>")
        pts = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in enumerate(line) if v is not None)
        if pts:
            out.append(f'<polyline class="estimated-line" points="{pts}" fill="none" '
                       f'stroke="{colour}" stroke-dasharray="5 4"/>')
    judged = x(p.lookback_windows - 1)
    out += [f'<line class="judged" x1="{judged:.1f}" y1="{bottom - plot_h}" x2="{judged:.1f}" '
            f'y2="{bottom}" stroke="#999"/>',
            f'<text x="{left - 6}" y="{bottom - plot_h + 4}" font-size="10" '
            f'text-anchor="end">{high:.3g}</text>',
            f'<text x="{left - 6}" y="{bottom}" font-size="10" text-anchor="end">'
            f"{low:.3g}</text>", "</svg>"]
    return "".join(out)


def _span(p: BacktestParams) -> str:
    seconds = int(p.window.total_seconds())
    return {3600: "hour", 86400: "day"}.get(seconds, f"{seconds // 60}-minute window")
