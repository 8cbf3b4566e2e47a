"""A self-contained HTML volume report: successful predictions per window over the lookback,
against the seasonal baseline the monitor judges with, as one inline SVG chart per group.

The chart shows what a poll decides on: the count of each window (solid line), the expected
count (the median of the same window in earlier clean weeks, dashed), the band inside which
a change is too small to alert (``min_change_pct`` around the expectation), the windows
judged anomalous (red dots), holidays (grey) and the newest complete window, the one a poll
judges (a vertical rule). Nothing is fetched when the page is viewed. Pure: data in, text out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape

from watchdog.checks.volume.check import Found, Series
from watchdog.checks.volume.params import VolumeParams

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}
td.num{text-align:right;font-variant-numeric:tabular-nums}section{margin:2em 0}
.legend span{display:inline-block;width:14px;height:3px;margin:0 4px 3px 12px}
"""
ACTUAL, EXPECTED, BAND, ANOMALY = "#4c78a8", "#555", "#e8eef6", "#d62728"


def render(p: VolumeParams, table: str, found: Found, now: datetime) -> str:
    """The whole page for one read of the monitor's table."""
    judged = found.start(found.judged)
    window = found.seconds * found.stride
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Volume report: {escape(p.id)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Volume report: {escape(p.id)}</h1>",
        f"<p>Successful predictions in <b>{escape(table)}</b> per {_span(window)}, "
        f"{found.start(found.tiling()[0]):%Y-%m-%d %H:%M} to "
        f"{_time(found.judged + 1, found.seconds):%Y-%m-%d %H:%M} UTC; the judged window "
        f"starts {judged:%Y-%m-%d %H:%M} UTC (written {now:%Y-%m-%d %H:%M} UTC). Expected: "
        f"the median of the same window in up to {p.baseline_weeks} earlier clean weeks; "
        f"alerts need a {p.min_change_pct:g}% {escape(p.direction)} and robust z of "
        f"{p.min_z:g}.</p>",
        '<p class="legend"><span style="background:' + ACTUAL + '"></span>successful'
        '<span style="background:' + EXPECTED + '"></span>expected'
        '<span style="background:' + ANOMALY + '"></span>anomalous window</p>',
    ]
    if not found.series:
        parts.append("<p><b>No predictions at all in the lookback.</b></p>")
    week = found.judged + 1 - 7 * 86400 // found.seconds
    for s in found.series:
        parts += [f"<section><h2>{escape(s.label)}</h2>", chart_svg(s, found, p)]
        if week > found.first:  # the last seven days again, wider
            parts += ["<h3>Last 7 days</h3>", chart_svg(s, found, p, first=week)]
        parts += [_anomalies(s, found), "</section>"]
    parts.append("</body></html>")
    return "\n".join(parts)


def chart_svg(s: Series, found: Found, p: VolumeParams, width: int = 900,
              height: int = 260, first: int | None = None) -> str:
    """One group's counts and expectations from window ``first`` (default: the whole
    lookback) to the judged one, as inline SVG."""
    indices = found.tiling(first)
    actual = [s.verdicts[i].actual for i in indices]
    expected = [s.verdicts[i].baseline.expected for i in indices]
    change = p.min_change_pct / 100
    top = max([*actual, *(e * (1 + change) for e in expected if e is not None), 1.0])
    left, bottom, plot_w, plot_h = 50, height - 30, width - 60, height - 50

    def x(k: int) -> float:
        return left + plot_w * k / max(len(indices) - 1, 1)

    def y(v: float) -> float:
        return bottom - plot_h * v / top

    out = [f'<svg width="{width}" height="{height}" role="img" data-group="'
           f'{escape(s.label)}" data-windows="{len(indices)}" '
           f'aria-label="successful predictions of {escape(s.label)}">']
    for k, i in enumerate(indices):  # holidays behind everything
        if i in found.holidays:
            out.append(f'<rect class="holiday" x="{x(k) - 2:.1f}" y="{bottom - plot_h}" '
                       f'width="4" height="{plot_h}" fill="#ddd"/>')
    low = [(k, e * (1 - change)) for k, e in enumerate(expected) if e is not None]
    high = [(k, e * (1 + change)) for k, e in enumerate(expected) if e is not None]
    if low:
        ring = [*((x(k), y(v)) for k, v in high), *((x(k), y(v)) for k, v in reversed(low))]
        out.append(f'<polygon class="band" points="{_points(ring)}" fill="{BAND}"/>')
    for run in _runs([(k, e) for k, e in enumerate(expected)]):
        out.append(f'<polyline class="expected" points="{_points((x(k), y(v)) for k, v in run)}"'
                   f' fill="none" stroke="{EXPECTED}" stroke-dasharray="4 3"/>')
    out.append(f'<polyline class="actual" points="'
               f'{_points((x(k), y(v)) for k, v in enumerate(actual))}" fill="none" '
               f'stroke="{ACTUAL}" stroke-width="1.5"/>')
    for k, i in enumerate(indices):
        v = s.verdicts[i]
        if v.anomaly is not None:
            out.append(f'<circle class="anomaly" cx="{x(k):.1f}" cy="{y(v.actual):.1f}" r="4" '
                       f'fill="{ANOMALY}"><title>{found.start(i):%Y-%m-%d %H:%M}: '
                       f'{v.actual:g} ({escape(v.reason)})</title></circle>')
    judged = x(len(indices) - 1)
    out += [f'<line class="judged" x1="{judged:.1f}" y1="{bottom - plot_h}" x2="{judged:.1f}" '
            f'y2="{bottom}" stroke="#999"/>',
            f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#999"/>',
            f'<text x="{left - 6}" y="{bottom - plot_h + 4}" font-size="10" '
            f'text-anchor="end">{top:,.0f}</text>',
            f'<text x="{left - 6}" y="{bottom}" font-size="10" text-anchor="end">0</text>']
    midnights = [k for k, i in enumerate(indices)
                 if found.start(i).time() == datetime.min.time()]
    step = max(1, -(-len(midnights) // 12))  # at most a dozen dates under the axis
    for k in midnights[::step]:
        out.append(f'<text x="{x(k):.1f}" y="{bottom + 14}" font-size="10" '
                   f'text-anchor="middle">{found.start(indices[k]):%m-%d}</text>')
    out.append("</svg>")
    return "".join(out)


def _anomalies(s: Series, found: Found) -> str:
    drawn = set(found.tiling())
    rows = [(i, v) for i, v in sorted(s.verdicts.items()) if v.anomaly is not None
            and i in drawn]
    if not rows:
        return "<p>No anomalous window in the lookback.</p>"
    lines = ["<table><tr><th>window (UTC)</th><th>successful</th><th>expected</th>"
             "<th>change</th><th>robust z</th><th>reason</th></tr>"]
    for i, v in rows:
        expected = "" if v.baseline.expected is None else f"{v.baseline.expected:g}"
        change = "" if v.change is None else f"{v.change:+.0%}"
        z = "" if v.z is None else f"{v.z:+.1f}"
        lines.append(f'<tr class="anomaly"><td>{found.start(i):%Y-%m-%d %H:%M}</td>'
                     f'<td class="num">{v.actual:g}</td><td class="num">{expected}</td>'
                     f'<td class="num">{change}</td><td class="num">{z}</td>'
                     f"<td>{escape(v.reason)}</td></tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _runs(points: list[tuple[int, float | None]]) -> list[list[tuple[int, float]]]:
    """Consecutive points with a value (a line breaks where there is no expectation)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for k, v in points:
        if v is None:
            runs.append([])
        else:
            runs[-1].append((k, v))
    return [r for r in runs if r]


def _points(pairs: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{a:.1f},{b:.1f}" for a, b in pairs)


def _time(index: int, seconds: int) -> datetime:
    return datetime.fromtimestamp(index * seconds, UTC)


def _span(seconds: int) -> str:
    return {3600: "hour", 86400: "day"}.get(seconds, f"{seconds // 60}-minute window")
