"""Widget bodies of Datadog's Dashboards API (v1), as plain JSON-ready dicts.

Shapes follow datadog-api-client's models (``TimeseriesWidgetDefinition``,
``ToplistWidgetDefinition``, ``QueryValueWidgetDefinition``, ``CheckStatusWidgetDefinition``,
``ListStreamWidgetDefinition``, ``NoteWidgetDefinition``, ``GroupWidgetDefinition``,
``MonitorSummaryWidgetDefinition``); tests deserialise every body into them.
Each metric widget uses the formulas-and-functions form: named queries plus formulas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Widget = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Query:
    """A named metric query (``q1``) and the formulas drawn from it."""

    name: str
    query: str
    formulas: tuple[dict[str, Any], ...] = ()
    aggregator: str | None = None  # scalar widgets: how a series becomes one number

    def body(self) -> dict[str, Any]:
        out = {"data_source": "metrics", "name": self.name, "query": self.query}
        return {**out, "aggregator": self.aggregator} if self.aggregator else out


def formula(text: str, alias: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"formula": text, **({"alias": alias} if alias else {}), **extra}


@dataclass(frozen=True, slots=True)
class Series:
    """One request of a timeseries: its queries, formulas and how they are drawn."""

    queries: tuple[Query, ...]
    display: str = "line"  # line, bars, area
    line_type: str = "solid"  # solid, dashed, dotted
    palette: str = "dog_classic"
    formulas: tuple[dict[str, Any], ...] = field(default=())

    def body(self) -> dict[str, Any]:
        formulas = self.formulas or tuple(formula(q.name, _measure(q.query))
                                          for q in self.queries)
        return {
            "response_format": "timeseries",
            "queries": [q.body() for q in self.queries],
            "formulas": list(formulas),
            "display_type": self.display,
            "style": {"palette": self.palette, "line_type": self.line_type,
                      "line_width": "normal"},
        }


def _measure(query: str) -> str:
    """``avg:watchdog.predictions.ratio_to_expected{…}`` → ``ratio_to_expected``."""
    return query.split("{", 1)[0].rsplit(".", 1)[-1].replace("_", " ")


def marker(value: float, label: str, level: str = "error") -> dict[str, Any]:
    """A horizontal line at ``value`` (``level``: error, warning, ok, info)."""
    return {"value": f"y = {value:g}", "display_type": f"{level} dashed", "label": label}


def timeseries(title: str, series: Sequence[Series], markers: Sequence[dict[str, Any]] = (),
               description: str = "") -> Widget:
    definition: dict[str, Any] = {
        "type": "timeseries", "title": title, "show_legend": True, "legend_layout": "auto",
        "requests": [s.body() for s in series],
    }
    if markers:
        definition["markers"] = list(markers)
    return _with_description(definition, description)


def thresholds(at: float, above_is_bad: bool = True) -> list[dict[str, Any]]:
    """Red at or past ``at``, green on the good side."""
    bad, good = (">=", "<") if above_is_bad else ("<=", ">")
    return [{"comparator": bad, "value": at, "palette": "white_on_red"},
            {"comparator": good, "value": at, "palette": "white_on_green"}]


def toplist(title: str, query: Query, limit: int = 25,
            conditional: Sequence[dict[str, Any]] = (), description: str = "") -> Widget:
    top = formula(query.name, limit={"count": limit, "order": "desc"})
    if conditional:
        top["conditional_formats"] = list(conditional)
    definition = {"type": "toplist", "title": title, "requests": [{
        "response_format": "scalar", "queries": [query.body()], "formulas": [top]}]}
    return _with_description(definition, description)


def query_value(title: str, query: Query, conditional: Sequence[dict[str, Any]] = (),
                precision: int = 2, description: str = "") -> Widget:
    request: dict[str, Any] = {"response_format": "scalar", "queries": [query.body()],
                               "formulas": [formula(query.name)]}
    if conditional:
        request["conditional_formats"] = list(conditional)
    definition = {"type": "query_value", "title": title, "precision": precision,
                  "autoscale": True, "requests": [request]}
    return _with_description(definition, description)


def check_status(title: str, check: str, tags: Sequence[str],
                 group_by: Sequence[str] = ()) -> Widget:
    """The status of a service check across the groups matching ``tags``."""
    return {"definition": {"type": "check_status", "title": title, "check": check,
                           "grouping": "cluster", "group_by": list(group_by),
                           "tags": list(tags)}}


def events(title: str, search: str) -> Widget:
    """A list of the events matching ``search`` (Datadog's event search syntax)."""
    return {"definition": {"type": "list_stream", "title": title, "requests": [{
        "response_format": "event_list",
        "query": {"data_source": "event_stream", "query_string": search, "event_size": "s"},
        "columns": [{"field": "timestamp", "width": "auto"}],
    }]}}


def monitor_summary(title: str, query: str) -> Widget:
    """The state of the Datadog monitors matching ``query`` (monitor search syntax)."""
    return {"definition": {"type": "manage_status", "title": title, "query": query,
                           "summary_type": "monitors", "display_format": "countsAndList",
                           "color_preference": "text", "hide_zero_counts": True,
                           "show_last_triggered": True, "sort": "status,asc"}}


def note(markdown: str) -> Widget:
    return {"definition": {"type": "note", "content": markdown, "background_color": "white",
                           "font_size": "14", "text_align": "left", "show_tick": False,
                           "has_padding": True}}


def group(title: str, widgets: Sequence[Widget], color: str = "vivid_blue") -> Widget:
    return {"definition": {"type": "group", "title": title, "layout_type": "ordered",
                           "background_color": color, "show_title": True,
                           "widgets": list(widgets)}}


def _with_description(definition: dict[str, Any], description: str) -> Widget:
    if description:
        definition["description"] = description
    return {"definition": definition}
