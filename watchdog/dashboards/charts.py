"""Inline SVG for the preview's metric widgets: timeseries (lines, bars, markers) and
toplists. Pure: series in, markup out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

COLORS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#9d755d", "#eeca3b",
          "#e45756")
PALETTES = {"warm": "#e45756", "grey": "#8c8c8c"}
FORMAT_COLORS = {"white_on_red": "#d62728", "white_on_green": "#2ca02c",
                 "white_on_yellow": "#e6a700"}
Scale = Callable[[float], float]
_MARKER_COLORS = {"error": "#d62728", "warning": "#e6a700", "ok": "#2ca02c", "info": "#4c78a8"}


@dataclass(frozen=True, slots=True)
class Line:
    """One drawn series: its legend label, points, and how it is drawn."""

    label: str
    points: list[tuple[float, float]]
    display: str = "line"
    dash: str = "solid"
    color: str = COLORS[0]


def timeseries(lines: Sequence[Line], markers: Sequence[tuple[float, str, str]],
               width: int = 460, height: int = 170) -> str:
    """Lines and bars over a shared time axis, with horizontal markers (value, label, level)."""
    times = [t for line in lines for t, _ in line.points]
    values = [v for line in lines for _, v in line.points] + [m[0] for m in markers]
    t0, t1 = (min(times), max(times)) if times else (0.0, 1.0)
    if t1 - t0 < 1:
        t0, t1 = t0 - 3600, t1 + 3600
    low, high = min([0.0, *values]), max([0.0, *values]) or 1.0
    high += (high - low) * 0.1
    pad, plot_w, plot_h = 34, width - 44, height - 34

    def x(t: float) -> float:
        return pad + (t - t0) / (t1 - t0) * plot_w

    def y(v: float) -> float:
        return 6 + (high - v) / (high - low) * plot_h

    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             'role="img">',
             f'<line x1="{pad}" y1="{y(low):.1f}" x2="{width - 10}" y2="{y(low):.1f}" '
             'stroke="#bbb"/>']
    for value, label, level in markers:
        color = _MARKER_COLORS.get(level, "#999")
        parts.append(f'<line x1="{pad}" y1="{y(value):.1f}" x2="{width - 10}" '
                     f'y2="{y(value):.1f}" stroke="{color}" stroke-dasharray="5 4"/>'
                     f'<text x="{width - 12}" y="{y(value) - 3:.1f}" text-anchor="end" '
                     f'fill="{color}" font-size="10">{escape(label)}</text>')
    for line in lines:
        parts.append(_draw(line, x, y, low))
    parts += [_axis_text(pad - 4, y(high - (high - low) * 0.1) + 4, _num(high / 1.1), "end"),
              _axis_text(pad - 4, y(low) + 4, _num(low), "end"),
              _axis_text(pad, height - 6, _time(t0), "start"),
              _axis_text(width - 10, height - 6, _time(t1), "end"), "</svg>"]
    return "".join(parts)


def _draw(line: Line, fx: Scale, fy: Scale, base: float) -> str:
    color = escape(line.color)
    if line.display == "bars":
        return "".join(f'<rect x="{fx(t) - 4:.1f}" y="{min(fy(v), fy(base)):.1f}" width="8" '
                       f'height="{abs(fy(base) - fy(v)):.1f}" fill="{color}" opacity="0.85"/>'
                       for t, v in line.points)
    dash = {"dashed": ' stroke-dasharray="6 4"', "dotted": ' stroke-dasharray="2 3"'}.get(
        line.dash, "")
    if len(line.points) == 1:
        (t, v), = line.points
        return (f'<circle cx="{fx(t):.1f}" cy="{fy(v):.1f}" r="4" fill="{color}"/>'
                f'<line x1="{fx(t) - 14:.1f}" y1="{fy(v):.1f}" x2="{fx(t) + 14:.1f}" '
                f'y2="{fy(v):.1f}" stroke="{color}" stroke-width="2"{dash}/>')
    points = " ".join(f"{fx(t):.1f},{fy(v):.1f}" for t, v in line.points)
    return (f'<polyline points="{points}" fill="none" stroke="{color}" '
            f'stroke-width="2"{dash}/>')


def toplist(rows: Sequence[tuple[str, float, str | None]], width: int = 460) -> str:
    """Horizontal bars, largest first: (label, value, colour of its conditional format)."""
    if not rows:
        return ""
    top = max(abs(v) for _, v, _ in rows) or 1.0
    height = 22 * len(rows) + 4
    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             'role="img">']
    for i, (label, value, color) in enumerate(rows):
        bar = (width - 300) * abs(value) / top
        fill = color or COLORS[0]
        parts.append(f'<text x="0" y="{22 * i + 15}" font-size="12">{escape(label[:34])}</text>'
                     f'<rect x="230" y="{22 * i + 4}" width="{bar:.1f}" height="15" '
                     f'fill="{fill}"/><text x="{236 + bar:.1f}" y="{22 * i + 16}" '
                     f'font-size="12">{_num(value)}</text>')
    return "".join(parts) + "</svg>"


def format_color(value: float, formats: Sequence[dict[str, object]]) -> str | None:
    """The colour of the first conditional format ``value`` meets."""
    tests = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}
    for f in formats:
        test = tests.get(str(f.get("comparator")))
        limit = f.get("value")
        if test and isinstance(limit, int | float) and test(float(value), float(limit)):
            return FORMAT_COLORS.get(str(f.get("palette")))
    return None


def _axis_text(x: float, y: float, text: str, anchor: str) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="10" '
            f'fill="#666">{escape(text)}</text>')


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%m-%d %H:%M")


def _num(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 1e6:
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:.2e}"
