"""``watchdog volume report``: the lookback as an SVG chart per group, read back from the
page and checked against the counts written into DuckDB (one planted outage)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.checks.volume.test_check import HOUR, JUDGED, NOW, seasonal, write
from tests.helpers import database, yaml_block
from watchdog.checks.volume.check import read_series
from watchdog.checks.volume.params import VolumeParams
from watchdog.cli import main
from watchdog.load import load_config
from watchdog.reports.volume import render
from watchdog.warehouses import create


class Page(HTMLParser):
    """The charts (their attributes and polylines/circles) and the anomaly table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs: list[dict[str, Any]] = []
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self.anomaly_rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag == "svg":
            self.svgs.append({**a, "actual": None, "anomalies": 0})
        elif tag == "polyline" and a.get("class") == "actual":
            self.svgs[-1]["actual"] = [tuple(map(float, p.split(",")))
                                       for p in (a.get("points") or "").split()]
        elif tag == "circle" and a.get("class") == "anomaly":
            self.svgs[-1]["anomalies"] += 1
        elif tag == "tr" and a.get("class") == "anomaly":
            self.anomaly_rows += 1


def _config(tmp_path: Path, wh: dict[str, Any], schema: str) -> Path:
    text = ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
            f"state: {{url: 'sqlite:///{tmp_path}/state.db'}}\n"
            "monitors:\n  - id: vol\n    kind: volume\n    warehouse: wh\n"
            f"    table: {schema}.predictions\n    time_column: ts\n"
            "    success: {column: status, value: ok}\n    group_by: [model]\n"
            "    baseline_weeks: 3\n"
            "  - {id: fresh, kind: freshness, warehouse: wh, table: "
            f"{schema}.predictions, time_column: ts, max_age: 1h}}\n")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_the_chart_draws_every_window_and_marks_the_outage(tmp_path: Path) -> None:
    counts = seasonal({"churn": 200.0, "ltv": 80.0})
    outage = [JUDGED - 2 * HOUR, JUDGED - HOUR, JUDGED]  # churn drops to a tenth
    for hour in outage:
        counts[(hour, "churn", "ok")] //= 10
    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, counts)
        engine.dispose()
        config = load_config(_config(tmp_path, wh, schema))
        monitor = config.monitor("vol")
        assert isinstance(monitor, VolumeParams)
        with create("wh", wh["type"], wh["settings"]) as adapter:
            found = read_series(adapter, monitor, NOW, None)
    page = Page()
    page.feed(render(monitor, "predictions", found, NOW))
    lookback = len(found.tiling())  # one point per hour: windows that do not overlap
    week = 7 * 24
    assert [(s["data-group"], int(s["data-windows"])) for s in page.svgs] == [
        ("model=churn", lookback), ("model=churn", week), ("model=ltv", lookback),
        ("model=ltv", week)]
    assert [s["anomalies"] for s in page.svgs] == [3, 3, 0, 0]
    assert page.anomaly_rows == 3
    # each point's height is its window's count: read them back through the axis scale
    churn = page.svgs[1]["actual"]
    bottom, plot_h = 260 - 30, 260 - 50
    heights = [bottom - y for _, y in churn]
    written = [sum(n for (h, m, s), n in counts.items() if m == "churn" and s == "ok"
                   and h == JUDGED - timedelta(hours=week - 1 - k)) for k in range(week)]
    top = max(written) / (max(heights) / plot_h)  # the scale the chart used
    assert [round(h / plot_h * top) for h in heights] == pytest.approx(written, abs=1)
    assert not page.tags & {"script", "link", "img", "iframe", "object"} and page.urls == []


def test_the_command_writes_the_page_and_refuses_other_kinds(tmp_path: Path, capsys) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, seasonal({"churn": 50.0}, until=NOW))
        engine.dispose()
        config = str(_config(tmp_path, wh, schema))
        out = tmp_path / "volume.html"
        assert main(["volume", "report", "vol", "-c", config, "-o", str(out),
                     "--at", NOW.isoformat()]) == 0
        assert main(["volume", "report", "fresh", "-c", config]) == 1
        assert main(["volume", "report", "vol", "-c", config, "-o",
                     str(tmp_path / "missing" / "v.html")]) == 2
    printed = capsys.readouterr()
    assert f"cannot write {tmp_path}/missing/v.html: No such file or directory" in printed.err
    assert f"{out}: 1 group(s), 0 anomalous window(s) in the lookback" in printed.out
    assert "'fresh' is a freshness monitor, not volume" in printed.err
    assert "Traceback" not in printed.err and out.read_text().count("<svg") == 2
