"""The exported bodies: valid for Datadog's API models, and drawn only from what watchdog
really emits (checked against the demo's .watchdog/emitted.jsonl, so a renamed metric or
tag breaks these tests)."""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from datadog_api_client import Configuration
from datadog_api_client.model_utils import validate_and_convert_types
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor

from tests.dashboards.conftest import ROOT, copy_demo, load
from watchdog.alerting.routing import audience
from watchdog.config.models import Config, MonitorConfig
from watchdog.dashboards import Bundle, build, kinds
from watchdog.dashboards.api import to_model
from watchdog.errors import WatchdogError
from watchdog.sinks.mentions import has_mention


def widgets(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every widget definition, groups' children included."""
    out = []
    for item in items:
        out.append(item["definition"])
        out += widgets(item["definition"].get("widgets", []))
    return out


def test_every_body_deserialises_into_datadog_api_client_models(demo_config: Config) -> None:
    bundle = build(demo_config)
    assert len(bundle.dashboards) == 3 and len(bundle.monitors) >= 10
    for key, body in [*bundle.dashboards.items(), *bundle.monitors.items()]:
        cls = Dashboard if key.split("/")[1] == "dashboard" else Monitor
        model = validate_and_convert_types(copy.deepcopy(body), (cls,), ["body"], True, True,
                                           Configuration())
        assert not model._unparsed, key  # every widget type, enum and oneOf matched
        assert json.loads(json.dumps(model.to_dict(), default=str)) == body, key
        to_model(body, cls, key)  # and no key unknown to the schema


@pytest.mark.parametrize("spoil", [
    lambda b: b["widgets"][0]["definition"].update(type="chek_status"),
    lambda b: b["widgets"][1]["definition"]["widgets"][0]["definition"].update(grouping="x"),
    lambda b: b["widgets"][0]["definition"].update(colour="red"),
])
def test_a_body_the_api_schema_does_not_know_is_refused(demo_config: Config, spoil: Any) -> None:
    body = copy.deepcopy(next(iter(build(demo_config).dashboards.values())))
    spoil(body)
    with pytest.raises(WatchdogError, match="dashboard"):
        to_model(body, Dashboard, "dashboard")


# -- what watchdog emits -----------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    kind: str  # metric, check, event
    name: str
    keys: frozenset[str]
    where: str


def _keys(scope: str) -> set[str]:
    scope = re.sub(r"([\w.\-]+) IN \([^)]*\)", r"\1:in", scope)
    out = set()
    for token in re.split(r",| AND | OR |\(|\)|\s", scope):
        token = token.strip().strip('"')
        if token.startswith("$"):
            out.add(token[1:])
        elif ":" in token:
            out.add(token.split(":", 1)[0])
    return out


def _metric_refs(text: str, where: str) -> list[Ref]:
    found = re.findall(r"(watchdog\.[\w.]+)\{([^}]*)\}(?: by \{([^}]*)\})?", text)
    return [Ref("metric", name, frozenset(_keys(scope) | set(filter(None, by.split(",")))),
                where) for name, scope, by in found]


def _event_ref(search: str, where: str) -> Ref:
    unquoted = re.sub(r'"[^"]*"', " ", search)
    return Ref("event", " ".join(re.findall(r'"([^"]*)"', search)),
               frozenset(_keys(unquoted)), where)


def _dashboard_refs(key: str, body: dict[str, Any]) -> list[Ref]:
    out: list[Ref] = []
    for d in widgets(body["widgets"]):
        where = f"{key}: {d.get('title', d['type'])}"
        for request in d.get("requests", []):
            for query in request.get("queries", []):
                out += _metric_refs(query["query"], where)
            if "query" in request and "query_string" in request["query"]:
                out.append(_event_ref(request["query"]["query_string"], where))
        if d["type"] == "check_status":
            out.append(Ref("check", d["check"], frozenset(_keys(",".join(d["tags"]))
                                                         | set(d["group_by"])), where))
    return out


def _monitor_refs(key: str, body: dict[str, Any]) -> list[Ref]:
    query = body["query"]
    if body["type"] == "service check":
        name, over, by = re.match(r'"([^"]+)"\.over\(([^)]*)\)\.by\(([^)]*)\)', query).groups()
        return [Ref("check", name, frozenset(_keys(over) | set(re.findall(r'"(\w+)"', by))),
                    key)]
    if body["type"] == "event-v2 alert":
        search = re.match(r'events\("(.*)"\)\.rollup', query)[1].replace('\\"', '"')
        by = re.findall(r'\.by\("([^"]*)"\)', query)
        ref = _event_ref(search, key)
        return [Ref("event", ref.name, ref.keys | set(",".join(by).split(",")) - {""}, key)]
    return _metric_refs(query, key)


def references(bundle: Bundle) -> list[Ref]:
    out = [r for k, b in bundle.dashboards.items() for r in _dashboard_refs(k, b)]
    return out + [r for k, b in bundle.monitors.items() for r in _monitor_refs(k, b)]


def emitted(path: Path) -> dict[str, Any]:
    tags: dict[tuple[str, str], set[str]] = defaultdict(set)
    titles: list[str] = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        kind = {"metric": "metric", "service_check": "check", "event": "event"}.get(
            record["type"])
        if kind is None:
            continue
        name = "*" if kind == "event" else record["name"]
        tags[(kind, name)] |= {t.split(":", 1)[0] for t in record["tags"]}
        titles += [record["title"]] if kind == "event" else []
    return {"tags": tags, "titles": titles}


def problems(refs: list[Ref], sent: dict[str, Any]) -> list[str]:
    out = []
    for ref in refs:
        have = sent["tags"].get((ref.kind, "*" if ref.kind == "event" else ref.name))
        if have is None:
            out.append(f"{ref.where}: watchdog never sends {ref.kind} {ref.name}")
        elif missing := ref.keys - have:
            out.append(f"{ref.where}: {ref.kind} {ref.name} never has tag(s) {sorted(missing)}")
        if ref.kind == "event" and ref.name and not any(ref.name in t for t in sent["titles"]):
            out.append(f"{ref.where}: no event title contains {ref.name!r}")
    return out


def test_every_query_uses_a_metric_and_tags_that_the_demo_emitted(
        demo: Path, demo_config: Config) -> None:
    refs = references(build(demo_config))
    sent = emitted(demo / ".watchdog" / "emitted.jsonl")
    assert problems(refs, sent) == []
    names = {r.name for r in refs if r.kind == "metric"}
    assert {"watchdog.predictions.count", "watchdog.predictions.expected",
            "watchdog.drift.psi", "watchdog.drift.share_drifted",
            "watchdog.contract.failure_rate", "watchdog.freshness.age_seconds",
            "watchdog.schema.changes", "watchdog.jobs.success"} <= names
    assert {r.name for r in refs if r.kind == "check"} == {"watchdog.monitor", "watchdog.up"}
    assert any(r.kind == "event" and r.name == "[BREAKING]" for r in refs)


@pytest.mark.parametrize("rename", [
    ("watchdog.drift.psi{", "watchdog.drift.psi_value{"),  # a renamed metric
    ("by {feature}", "by {column}"),  # a tag key the drift metrics do not carry
    ("[BREAKING]", "[BREAKS]"),  # an event title watchdog does not write
])
def test_the_check_against_emitted_data_catches_a_rename(
        demo: Path, demo_config: Config, rename: tuple[str, str]) -> None:
    bundle = build(demo_config)
    spoiled = json.loads(json.dumps([bundle.dashboards, bundle.monitors])
                         .replace(rename[0], rename[1].replace('"', '\\"')))
    found = problems(references(Bundle(*spoiled)), emitted(demo / ".watchdog" / "emitted.jsonl"))
    assert found, rename


# -- kinds, routing, notifications -------------------------------------------------------


def _drawn(monitor: MonitorConfig) -> tuple[list[str], dict[str, list[str]]]:
    """Every query of a backtest monitor's widgets, and each widget's markers by title."""
    drawn = kinds.KINDS["backtest"].widgets(monitor, kinds.View(("monitor:bt", "$env")))
    for item in drawn:  # valid widgets of the Dashboards API too
        to_model({"title": "t", "layout_type": "ordered", "widgets": [item]}, Dashboard, "w")
    found = widgets(drawn)
    return ([q["query"] for d in found for r in d["requests"] for q in r["queries"]],
            {d["title"]: [f"{m['label']} {m['value']}" for m in d.get("markers", [])]
             for d in found})


def test_backtest_widgets_draw_every_backtest_metric_per_group(demo_config: Config) -> None:
    """The demo's churn_backtest (grouped by model_version, thresholds on auroc and log
    loss); that the demo sent each of these names with these tags is checked above."""
    queries, markers = _drawn(demo_config.monitor("churn_backtest"))
    by = "{monitor:bt,$env} by {model_version}"
    assert queries == [
        f"avg:watchdog.backtest.auroc{by}", f"avg:watchdog.backtest.estimated.auroc{by}",
        f"avg:watchdog.backtest.log_loss{by}",
        f"max:watchdog.backtest.calibration_error{by}",
        f"avg:watchdog.backtest.estimation_error.auroc{by}",
        f"avg:watchdog.backtest.label_coverage{by}",
        f"max:watchdog.backtest.label_delay_seconds.p50{by}",
        f"max:watchdog.backtest.label_delay_seconds.p90{by}",
        f"max:watchdog.backtest.label_delay_seconds.max{by}"]
    assert markers["churn_backtest: auroc per model_version"] == ["min: FAIL y = 0.6"]
    assert markers["churn_backtest: log_loss per model_version"] == ["max: FAIL y = 0.7"]
    assert markers["churn_backtest: calibration error of the scores per model_version"] == [
        "max_calibration_error: estimates unreliable y = 0.05"]
    assert markers["churn_backtest: label delay (hours) per model_version"] == [
        "feedback_delay y = 48"]


def test_backtest_widgets_follow_the_monitors_task_groups_and_baseline() -> None:
    from watchdog.checks.backtest.params import BacktestParams

    common = {"id": "bt", "warehouse": "demo", "feedback_delay": "1d",
              "predictions": {"table": "p", "time_column": "t", "key": "id", "score": "s"},
              "labels": {"table": "l", "key": "id", "label": "y"}}
    regression = BacktestParams(**common, task="regression", baseline={"rmse": 2.0},
                                thresholds={"rmse": {"max_drop": 0.5}}, min_coverage=0.9)
    queries, markers = _drawn(regression)
    assert queries == ["avg:watchdog.backtest.rmse{monitor:bt,$env}",
                       "avg:watchdog.backtest.label_coverage{monitor:bt,$env}"]
    assert markers == {"bt: rmse": ["declared baseline y = 2", "baseline + max_drop: FAIL y = 2.5"],
                       "bt: label coverage": ["min_coverage: FAIL y = 0.9"]}
    grouped = BacktestParams(**common, group_by=["model_version", "region"],
                             baseline={"auroc": 0.8}, thresholds={"auroc": {"max_drop": 0.05}})
    queries, markers = _drawn(grouped)
    by = "{monitor:bt,$env} by {model_version,region}"
    assert queries[:2] == [f"avg:watchdog.backtest.auroc{by}",
                           f"avg:watchdog.backtest.estimated.auroc{by}"]
    assert markers["bt: auroc per model_version, region"] == [
        "declared baseline y = 0.8", "baseline - max_drop: FAIL y = 0.75"]


def _mentions_config(tmp_path: Path, mentions: str) -> Config:
    path = copy_demo(tmp_path, sinks={"console": {}, "datadog": {"mentions": mentions}})
    return load(path)


@pytest.mark.parametrize("mode", ["events", "monitors"])
def test_exactly_one_side_pages_and_with_the_events_routing(tmp_path: Path, mode: str) -> None:
    config = _mentions_config(tmp_path, mode)
    bodies = build(config).monitors
    for monitor in config.monitors:
        handles = audience(config, monitor).handles
        status = bodies[f"test/status/{monitor.id}"]["message"]
        mentioned = set(re.findall(r"(?<![\w@.+-])(@[\w.+@-]+)", status))
        assert mentioned == (set(handles) if mode == "monitors" else set()), monitor.id
        assert all(h.lstrip("@") in status for h in handles)  # named either way
    signals = [b for k, b in bodies.items() if k.count("/") == 3 and "breaking" not in k]
    assert signals and not any(has_mention(b["message"]) for b in signals)
    # the schema monitor's audience is its owner; readers of a changed table are paged by
    # the [BREAKING] monitor, per table, as the schema events mention them
    breaking = bodies["test/schema/schema_changes/breaking"]["message"]
    route = ('{{#is_exact_match "table.name" "main.ground_truth"}}main.ground_truth: '
             + ("@slack-growth-ml" if mode == "monitors" else "slack-growth-ml"))
    assert route in breaking
    assert has_mention(breaking) == (mode == "monitors")
    assert "@slack-data-platform" not in breaking  # the owner is paged by the status monitor
    up = bodies["test/up"]
    assert up["options"]["notify_no_data"] is True
    assert "@slack-data-platform" in up["message"]  # a silent watchdog pages in both modes


def test_model_dashboards_hold_the_monitors_routed_to_their_model(demo_config: Config) -> None:
    dashboards = build(demo_config).dashboards

    def shown(model: str) -> set[str]:
        return {d["title"] for d in widgets(dashboards[f"test/dashboard/model/{model}"]["widgets"])
                if d["type"] == "check_status" and d["check"] == "watchdog.monitor"}

    assert {"predictions_volume", "score_drift", "features_drift"} <= shown("churn_model")
    assert "labels_freshness" not in shown("churn_model")
    assert {"labels_freshness", "features_drift"} <= shown("retention_uplift")
    assert "predictions_volume" not in shown("retention_uplift")
    events = [d for d in widgets(dashboards["test/dashboard/model/retention_uplift"]["widgets"])
              if d["type"] == "list_stream"]
    assert events[0]["requests"][0]["query"]["query_string"] == (
        "$env (table:main.features OR table:main.ground_truth)")


def test_thresholds_come_from_each_monitor_s_config(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())["monitors"]
    drift = next(m for m in raw if m["id"] == "features_drift")
    drift["thresholds"] = {"numeric": {"psi": 0.3, "ks_pvalue": 0.01},
                           "categorical": {"psi": 0.25}}
    volume = next(m for m in raw if m["id"] == "predictions_volume")
    volume.update(direction="both", min_change_pct=40)
    bundle = build(load(copy_demo(tmp_path, monitors=raw)))
    queries = {k: b["query"] for k, b in bundle.monitors.items()}
    assert queries["test/drift/features_drift/psi"].endswith(" by {feature} >= 0.25")
    assert queries["test/drift/features_drift/ks_pvalue"].startswith("min(last_2h):min:")
    assert queries["test/drift/features_drift/ks_pvalue"].endswith(" < 0.01")
    assert queries["test/volume/predictions_volume/drop"].endswith(" by {model} < 0.6")
    assert queries["test/volume/predictions_volume/spike"].endswith(" by {model} > 1.4")
