"""``watchdog backtest report``: each metric per window and version, with its band and
baseline, and the label coverage, as one self-contained page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.checks.backtest.test_check import NOW, STEADY, config, write
from tests.helpers import database
from watchdog.cli import main
from watchdog.reports.backtest import COLOURS

EXTRA = "thresholds: {auroc: {min: 0.6}, log_loss: {max: 0.7}}\nbaseline: {auroc: 0.8}"


def test_the_command_draws_each_metric_per_version_and_refuses_other_kinds(
        tmp_path: Path, capsys) -> None:
    plan = {**STEADY, 0: {"v3": (300, 1.0, 0.9), "v4": (300, 0.2, 0.9)}}
    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, plan)
        engine.dispose()
        cfg = config(tmp_path, wh, schema, EXTRA)  # writes config.yaml
        path = str(tmp_path / "config.yaml")
        out = tmp_path / "bt.html"
        assert main(["backtest", "report", "churn_backtest", "-c", path, "-o", str(out),
                     "--at", NOW.isoformat()]) == 0
        assert main(["volume", "report", "churn_backtest", "-c", path]) == 1
    assert cfg.monitor("churn_backtest").kind == "backtest"
    printed = capsys.readouterr()
    assert f"{out}: 2 group(s), 2 metric(s) over 7 windows" in printed.out
    assert "'churn_backtest' is a backtest monitor, not volume" in printed.err
    page = out.read_text()
    assert page.count("<svg") == 3  # auroc, log_loss, label coverage
    assert 'data-metric="auroc"' in page and 'data-metric="label_coverage"' in page
    assert page.count('class="band"') == 2 and page.count('class="baseline"') == 1
    # two versions, seven windows each, every window with enough labels: 7 points a line
    auroc = page.split('data-metric="auroc"')[1].split("</svg>")[0]
    assert auroc.count('class="point"') == 14 and auroc.count('class="line"') == 2
    assert "model_version=v3" in page and "model_version=v4" in page
    assert "<script" not in page


def test_the_windows_waiting_for_labels_show_their_estimates(tmp_path: Path) -> None:
    from tests.checks.backtest.test_estimated import write as write_calibrated

    pages = {}
    for power in (1.0, 3.0):  # calibrated scores, then miscalibrated ones
        with database("duckdb", tmp_path) as (engine, wh, schema):
            write_calibrated(engine, schema, power, range(-6, 1), n=400)
            engine.dispose()
            config(tmp_path, wh, schema, EXTRA)
            out = tmp_path / f"bt{power}.html"
            assert main(["backtest", "report", "churn_backtest", "-c",
                         str(tmp_path / "config.yaml"), "-o", str(out),
                         "--at", NOW.isoformat()]) == 0
        pages[power] = out.read_text()
    page = pages[1.0]
    auroc = page.split('data-metric="auroc"')[1].split("</svg>")[0]
    # seven label-complete windows, then the two that ended since (estimated only)
    assert auroc.count('class="point"') == 7 and auroc.count('class="estimate"') == 2
    assert auroc.count('class="estimated-line"') == 1
    log_loss = page.split('data-metric="log_loss"')[1].split("</svg>")[0]
    assert 'class="estimate"' not in log_loss  # no estimate of the log loss
    assert "estimated from the scores" in page and "unreliable" not in page
    assert "model_version=v4: estimates unreliable</b>: the scores are not calibrated" \
        in pages[3.0]


@pytest.mark.parametrize("late", [False, True])
def test_without_a_declared_baseline_each_version_has_its_own_and_its_max_drop_edge(
        tmp_path: Path, late: bool) -> None:
    """The reference-window baseline the check judges max_drop against (the earlier
    windows pooled), drawn per version in its colour, with the edge it fails past: at the
    very value the check judged, also when the judged day waits for its labels and the
    day before is judged instead (its baseline: the days before it)."""
    from tests.checks.backtest.test_check import run

    plan = {**STEADY, 0: {"v3": (300, 1.0, 0.9), "v4": (300, 0.2, 0.9)}}
    if late:
        plan = {**STEADY, -1: {"v3": (300, 1.0, 0.9), "v4": (300, 0.2, 0.9)},
                0: {"v3": (300, 1.0, 0.0), "v4": (300, 2.5, 0.0)}}
    extra = "thresholds: {auroc: {max_drop: 0.05}}"
    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, plan)
        engine.dispose()
        result = run(tmp_path, wh, schema, extra)
        (dropped,) = [f for f in result.findings if f.reason == "METRIC_DROPPED"]
        out = tmp_path / "bt.html"
        assert main(["backtest", "report", "churn_backtest", "-c",
                     str(tmp_path / "config.yaml"), "-o", str(out),
                     "--at", NOW.isoformat()]) == 0
    page = out.read_text()
    # the whole period per version, as the check sends it (period.auroc)
    for version in ("v3", "v4"):
        (sent,) = [m.value for m in result.metrics if m.name == "watchdog.backtest.period.auroc"
                   and f"model_version:{version}" in m.tags]
        shown = re.search(rf"<tr><td>model_version={version}</td><td>[\d,]+</td><td>([\d.]+) "
                          r"\([\d.]+–[\d.]+\)</td></tr>", page)
        assert shown and float(shown[1]) == pytest.approx(sent, abs=5e-5), version
    auroc = page.split('data-metric="auroc"')[1].split("</svg>")[0]
    assert auroc.count('class="baseline"') == 2 and auroc.count('class="drop-edge"') == 2
    assert 'class="band"' not in auroc  # no min or max declared
    edges = re.findall(r'class="drop-edge"[^>]*stroke="(#\w+)"[^>]*><title>baseline \(the '
                       r"earlier windows\) [\d.]+ - max_drop 0\.05 = ([\d.]+): fails past it",
                       auroc)
    assert len(edges) == 2 and edges[1][0] == COLOURS[1]  # v4, the second version
    assert float(edges[1][1]) == pytest.approx(dropped.details["limit"], abs=5e-5)


def test_with_a_reference_window_the_baseline_is_the_references(tmp_path: Path) -> None:
    """The edge drawn is the one the check failed past: the reference's metric - max_drop,
    named as the reference window; the version absent from it has no baseline line."""
    from tests.checks.backtest.test_check import run
    from tests.checks.backtest.test_reference import DROP, PLAN, REF

    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, PLAN)
        engine.dispose()
        result = run(tmp_path, wh, schema, f"{DROP}\n{REF}")
        dropped = {f.details["metric"]: f.details["limit"] for f in result.findings
                   if f.reason == "METRIC_DROPPED"}
        out = tmp_path / "bt.html"
        assert main(["backtest", "report", "churn_backtest", "-c",
                     str(tmp_path / "config.yaml"), "-o", str(out),
                     "--at", NOW.isoformat()]) == 0
    page = out.read_text()
    assert "Baseline of max_drop: the reference window 2026-02-01–2026-02-08" in page
    auroc = page.split('data-metric="auroc"')[1].split("</svg>")[0]
    edges = re.findall(r'class="drop-edge"[^>]*stroke="(#\w+)"[^>]*><title>baseline \(the '
                       r"reference window 2026-02-01–2026-02-08\) [\d.]+ - max_drop 0\.05 = "
                       r"([\d.]+): fails past it", auroc)
    assert [colour for colour, _ in edges] == [COLOURS[0]]  # v3 only: v5 is not in it
    assert float(edges[0][1]) == pytest.approx(dropped["auroc"], abs=5e-5)
