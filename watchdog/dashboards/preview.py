"""A static HTML preview of the exported dashboards, drawn from what watchdog emitted.

Every widget of every dashboard is drawn the way Datadog would draw it, with the values
the jsonl sink recorded (``watchdog demo`` writes ``.watchdog/emitted.jsonl``): metric
queries and formulas are evaluated over the recorded points (:mod:`.evaluate`), check
status widgets show the recorded service checks, event lists the recorded events, and
monitor summaries the monitors ``apply`` would create. Self-contained: no script, nothing
fetched. A widget with no recorded data says so, in the widget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from watchdog.dashboards import charts
from watchdog.dashboards import evaluate as ev
from watchdog.dashboards.evaluate import Emitted

Body = dict[str, Any]
_STYLE = """
body{font:13px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#222}
header.dash{background:#632ca6;color:#fff;padding:14px 24px}header.dash h1{margin:0;font-size:20px}
header.dash p{margin:4px 0 0;opacity:.85}main{padding:12px 24px}
section.group{background:#fff;border-top:4px solid #4c78a8;margin:14px 0;padding:8px 12px}
section.group>h2{font-size:15px;margin:4px 0 8px}.grid{display:flex;flex-wrap:wrap;gap:10px}
.w{border:1px solid #e1e3e8;border-radius:4px;padding:8px;background:#fff;min-width:220px}
.w h3{font-size:12px;margin:0 0 6px;color:#444}.nodata{color:#999;font-style:italic}
.big{font-size:34px;font-weight:600}.badge{display:inline-block;padding:2px 8px;
border-radius:3px;color:#fff;font-weight:600;margin-right:6px}.w-note{max-width:940px}
ul.ev{margin:0;padding-left:16px;max-width:440px}code{background:#f0f0f3;padding:0 3px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px}
"""
_GROUP_COLORS = {"vivid_green": "#2ca02c", "vivid_purple": "#632ca6", "gray": "#8c8c8c",
                 "vivid_blue": "#4c78a8"}
_STATUS = {0: ("OK", "#2ca02c"), 1: ("WARN", "#e6a700"), 2: ("CRITICAL", "#d62728"),
           3: ("UNKNOWN", "#8c8c8c")}


@dataclass(frozen=True, slots=True)
class Context:
    emitted: Emitted
    variables: Mapping[str, str]
    monitors: Mapping[str, Body]  # the monitors ``apply`` would create, for summaries


def render(dashboards: Sequence[Body], ctx: Context) -> str:
    """One page holding every dashboard in ``dashboards``."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>ml-watchdog dashboards (preview)</title>",
             f"<style>{_STYLE}</style></head><body>"]
    for body in dashboards:
        parts.append(dashboard(body, ctx))
    parts.append("</body></html>")
    return "\n".join(parts)


def dashboard(body: Body, ctx: Context) -> str:
    variables = ", ".join(f"${k} = {v}" for k, v in ctx.variables.items())
    description = body.get("description", "").split("\n\n")[0]
    return (f'<article class="dashboard"><header class="dash"><h1>{escape(body["title"])}</h1>'
            f"<p>{escape(description)} Template variables: {escape(variables)}.</p></header>"
            f'<main>{"".join(widget(w, ctx) for w in body["widgets"])}</main></article>')


def widget(item: Body, ctx: Context) -> str:
    definition = item["definition"]
    kind = definition["type"]
    if kind == "group":
        color = _GROUP_COLORS.get(definition.get("background_color", ""), "#4c78a8")
        inner = "".join(widget(w, ctx) for w in definition["widgets"])
        return (f'<section class="group" data-widget="group" style="border-color:{color}">'
                f'<h2>{escape(definition["title"])}</h2><div class="grid">{inner}</div>'
                "</section>")
    draw = _DRAW.get(kind)
    inner, points = draw(definition, ctx) if draw else (
        f'<p class="nodata">no preview for a {escape(kind)} widget</p>', 0)
    title = f"<h3>{escape(definition.get('title', ''))}</h3>" if definition.get("title") else ""
    return (f'<div class="w w-{escape(kind)}" data-widget="{escape(kind)}" '
            f'data-points="{points}">{title}{inner}</div>')


def _named(request: Body, ctx: Context) -> dict[str, ev.Series]:
    return {q["name"]: ev.metric_series(q["query"], ctx.emitted, ctx.variables)
            for q in request["queries"]}


def _timeseries(d: Body, ctx: Context) -> tuple[str, int]:
    lines: list[charts.Line] = []
    for request in d["requests"]:
        named = _named(request, ctx)
        for f in request["formulas"]:
            for label, points in ev.formula(f["formula"], named).items():
                name = f.get("alias") or f["formula"]
                color = charts.PALETTES.get(request["style"]["palette"],
                                            charts.COLORS[len(lines) % len(charts.COLORS)])
                lines.append(charts.Line(f"{name} {_pretty(label)}" if label != "*" else name,
                                         points,
                                         request["display_type"],
                                         request["style"]["line_type"], color))
    markers = [(float(m["value"].removeprefix("y = ")), m.get("label", ""),
                m["display_type"].split()[0]) for m in d.get("markers", ())]
    count = sum(len(line.points) for line in lines)
    if not count:
        return _nodata(), 0
    legend = "".join(f'<span style="background:{line.color}"></span>{escape(line.label)}'
                     for line in lines if line.points)
    return charts.timeseries(lines, markers) + f'<div class="legend">{legend}</div>', count


def _scalar(request: Body, ctx: Context) -> dict[str, float]:
    named = _named(request, ctx)
    return ev.last(ev.formula(request["formulas"][0]["formula"], named))


def _toplist(d: Body, ctx: Context) -> tuple[str, int]:
    request = d["requests"][0]
    values = _scalar(request, ctx)
    f = request["formulas"][0]
    order = f.get("limit", {}).get("order", "desc") == "desc"
    ranked = sorted(values.items(), key=lambda kv: kv[1], reverse=order)
    rows = [(_pretty(label), value,
             charts.format_color(value, f.get("conditional_formats", ())))
            for label, value in ranked[: f.get("limit", {}).get("count", 10)]]
    return (charts.toplist(rows), len(rows)) if rows else (_nodata(), 0)


def _query_value(d: Body, ctx: Context) -> tuple[str, int]:
    request = d["requests"][0]
    values = list(_scalar(request, ctx).values())
    if not values:
        return _nodata(), 0
    value = max(values)
    color = charts.format_color(value, request.get("conditional_formats", ())) or "#222"
    return f'<div class="big" style="color:{color}">{value:.{d.get("precision", 2)}f}</div>', 1


def _check_status(d: Body, ctx: Context) -> tuple[str, int]:
    found = ev.checks(d["check"], d.get("tags", ()), ctx.emitted, ctx.variables)
    if not found:
        return _nodata(), 0
    worst = max(found, key=lambda c: c["status"] if c["status"] != 3 else -1)
    name, color = _STATUS.get(worst["status"], _STATUS[3])
    message = escape(_clip(str(worst.get("message") or ""), 90))
    return (f'<span class="badge" style="background:{color}">{name}</span>'
            f"<small>{len(found)} group(s) · {message}</small>", len(found))


def _events(d: Body, ctx: Context) -> tuple[str, int]:
    search = d["requests"][0]["query"]["query_string"]
    found = [e for e in ctx.emitted.events if ev.event_matches(e, search, ctx.variables)]
    if not found:
        return _nodata("no events"), 0
    colors = {"error": "#d62728", "warning": "#e6a700", "success": "#2ca02c"}
    items = "".join(f'<li style="color:{colors.get(e.get("alert_type", ""), "#4c78a8")}">'
                    f'<span style="color:#222">{escape(e["title"])}</span></li>'
                    for e in found[:8])
    return f'<ul class="ev">{items}</ul>', len(found)


def _monitor_summary(d: Body, ctx: Context) -> tuple[str, int]:
    wanted = re.findall(r'tag:"([^"]+)"', d["query"])
    found = [m for m in ctx.monitors.values() if all(t in m["tags"] for t in wanted)]
    if not found:
        return _nodata("no monitors"), 0
    items = "".join(f"<li>{escape(m['name'])} <small>({escape(m['type'])})</small></li>"
                    for m in found)
    return (f"<small>{len(found)} monitor(s); their states live in Datadog</small>"
            f'<ul class="ev">{items}</ul>', len(found))


def _note(d: Body, ctx: Context) -> tuple[str, int]:
    html = escape(d["content"])
    html = re.sub(r"^## (.*)$", r"<b style='font-size:16px'>\1</b>", html, flags=re.M)
    html = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html)
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    return html.replace("  \n", "<br>").replace("\n\n", "<br><br>"), 1


def _pretty(label: str) -> str:
    """``column:age,check:in_range`` → ``age · in_range``."""
    return " · ".join(part.partition(":")[2] or part for part in label.split(","))


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _nodata(text: str = "no data yet") -> str:
    return f'<p class="nodata">{escape(text)}</p>'


_DRAW: dict[str, Callable[[Body, Context], tuple[str, int]]] = {
    "timeseries": _timeseries, "toplist": _toplist, "query_value": _query_value,
    "check_status": _check_status, "list_stream": _events, "manage_status": _monitor_summary,
    "note": _note,
}
