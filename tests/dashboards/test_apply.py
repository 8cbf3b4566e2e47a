"""``apply`` through the real datadog-api-client against a loopback Datadog that keeps state:
creates once, sends no write when nothing changed, updates in place (PUT to the same id),
lists orphans and deletes them only with prune, never touches anyone else's objects."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from datadog_api_client import Configuration
from datadog_api_client.model_utils import validate_and_convert_types
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest

from tests.dashboards.conftest import API_KEY, APP_KEY, ROOT, copy_demo, load
from tests.dashboards.dd_api_fake import FakeDatadogApi
from watchdog.dashboards import Bundle, apply, build
from watchdog.dashboards.api import Credentials, DatadogApi
from watchdog.errors import WatchdogError


def run(fake: FakeDatadogApi, bundle: Bundle, **options: Any) -> tuple[dict[str, int], str]:
    lines: list[str] = []
    api = DatadogApi(Credentials(API_KEY, APP_KEY, fake.url, "datadoghq.com"))
    try:
        counts = apply.apply(api, bundle, "test", dry_run=options.get("dry_run", False),
                             prune=options.get("prune", False), say=lines.append)
    finally:
        api.close()
    return counts, "\n".join(lines)


def bundle_with(tmp_path: Path, edit: Any = None) -> Bundle:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())["monitors"]
    if edit:
        raw = edit(copy.deepcopy(raw))
    return build(load(copy_demo(tmp_path, monitors=raw)))


def _drift_threshold(monitors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    drift = next(m for m in monitors if m["id"] == "features_drift")
    drift["thresholds"]["numeric"]["psi"] = 0.1
    return monitors


def _without_score_drift(monitors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in monitors if m["id"] != "score_drift"]


def test_first_apply_creates_each_object_once_with_valid_bodies(
        tmp_path: Path, dd_api: FakeDatadogApi) -> None:
    bundle = bundle_with(tmp_path)
    counts, _ = run(dd_api, bundle)
    posts = dd_api.writes()
    assert counts["created"] == len(bundle.monitors) + len(bundle.dashboards)
    assert {c.method for c in posts} == {"POST"}
    sent = {c.path: [] for c in posts}
    for call in posts:
        sent[call.path].append(call.body)
        assert call.headers["DD-API-KEY"] == API_KEY
        assert call.headers["DD-APPLICATION-KEY"] == APP_KEY
    by_name = sorted(sent["/api/v1/monitor"], key=lambda b: b["name"])
    assert by_name == sorted(bundle.monitors.values(), key=lambda b: b["name"])
    assert len(sent["/api/v1/dashboard"]) == len(bundle.dashboards)
    for body in sent["/api/v1/monitor"]:  # what went over the wire is a valid Monitor
        model = validate_and_convert_types(body, (Monitor,), ["m"], True, True, Configuration())
        assert not model._unparsed
    for body in sent["/api/v1/dashboard"]:
        model = validate_and_convert_types(body, (Dashboard,), ["d"], True, True,
                                           Configuration())
        assert not model._unparsed and body in bundle.dashboards.values()


def test_a_rerun_with_no_change_sends_no_write(tmp_path: Path, dd_api: FakeDatadogApi) -> None:
    bundle = bundle_with(tmp_path)
    run(dd_api, bundle)
    before = len(dd_api.calls)
    counts, said = run(dd_api, bundle)
    assert dd_api.writes()[-1].method == "POST"  # the writes are all from the first run
    assert [c.method for c in dd_api.calls[before:]] == ["GET"] * (len(dd_api.calls) - before)
    assert counts["unchanged"] == len(bundle.monitors) + len(bundle.dashboards)
    assert said == ""


def test_a_change_is_a_put_of_the_same_id_never_a_duplicate(
        tmp_path: Path, dd_api: FakeDatadogApi) -> None:
    run(dd_api, bundle_with(tmp_path / "a"))
    ids = {m["name"]: i for i, m in dd_api.monitors.items()}
    before = len(dd_api.calls)
    counts, said = run(dd_api, bundle_with(tmp_path / "b", _drift_threshold))
    writes = [c for c in dd_api.calls[before:] if c.method != "GET"]
    assert {c.method for c in writes} == {"PUT"}
    psi = ids["[ml-watchdog] features_drift: psi >= 0.2 per feature (test)"]
    monitor_puts = [c for c in writes if c.path.startswith("/api/v1/monitor/")]
    assert [c.path for c in monitor_puts] == [f"/api/v1/monitor/{psi}"]
    assert monitor_puts[0].body["query"].endswith("by {feature} >= 0.1")
    validate_and_convert_types(monitor_puts[0].body, (MonitorUpdateRequest,), ["m"], True, True,
                               Configuration())
    # the drift widgets of both models' dashboards draw the threshold: updated in place
    assert sorted(c.path for c in writes if "dashboard" in c.path) == sorted(
        f"/api/v1/dashboard/{i}" for i, d in dd_api.dashboards.items()
        if "features_drift" in str(d["widgets"]) and "Model" in d["title"])
    assert counts["updated"] == len(writes) and counts["created"] == 0
    assert len(dd_api.monitors) == len(ids)  # nothing duplicated
    assert "update" in said


def test_dry_run_prints_the_diff_and_sends_nothing(
        tmp_path: Path, dd_api: FakeDatadogApi) -> None:
    run(dd_api, bundle_with(tmp_path / "a"))
    before = len(dd_api.calls)
    counts, said = run(dd_api, bundle_with(tmp_path / "b", _drift_threshold), dry_run=True)
    assert all(c.method == "GET" for c in dd_api.calls[before:])
    assert counts["updated"] >= 1
    assert '-  "query": "max(last_2h):max:watchdog.drift.psi{monitor:features_drift,env:test} ' \
           'by {feature} >= 0.2",' in said
    assert '+  "query": "max(last_2h):max:watchdog.drift.psi{monitor:features_drift,env:test} ' \
           'by {feature} >= 0.1",' in said
    assert apply.summary(counts, True, False).endswith("(dry run: nothing was sent)")


def test_removed_monitors_are_listed_and_deleted_only_with_prune(
        tmp_path: Path, dd_api: FakeDatadogApi) -> None:
    run(dd_api, bundle_with(tmp_path / "a"))
    gone = {i for i, m in dd_api.monitors.items() if "monitor:score_drift" in m["tags"]}
    assert len(gone) == 3  # status, psi, share
    smaller = bundle_with(tmp_path / "b", _without_score_drift)
    counts, said = run(dd_api, smaller)
    assert counts["orphaned"] == 3 and not any(c.method == "DELETE" for c in dd_api.calls)
    assert said.count("[no longer in the config]") == 3
    assert "3 orphaned, kept (--prune deletes them)" in apply.summary(counts, False, False)
    counts, _ = run(dd_api, smaller, prune=True)
    deleted = [c.path for c in dd_api.calls if c.method == "DELETE"]
    assert sorted(deleted) == sorted(f"/api/v1/monitor/{i}" for i in gone)
    assert counts["deleted"] == 3 and gone.isdisjoint(dd_api.monitors)


def test_other_objects_are_never_touched_and_duplicates_are_orphans(
        tmp_path: Path, dd_api: FakeDatadogApi) -> None:
    bundle = bundle_with(tmp_path)
    theirs = dd_api.seed_monitor({"name": "db cpu", "type": "query alert", "message": "x",
                                  "query": "avg(last_5m):avg:system.cpu.user{*} > 90",
                                  "tags": ["team:db"], "options": {}})
    prod = dd_api.seed_monitor({**bundle.monitors["test/up"], "tags": [
        "managed-by:ml-watchdog", "watchdog-object:prod/up", "env:prod"]})
    dashboard = dd_api.seed_dashboard({"title": "hand made", "layout_type": "ordered",
                                       "description": "ours", "widgets": []})
    twin = dd_api.seed_monitor(bundle.monitors["test/up"])
    run(dd_api, bundle, prune=True)
    deleted = [c.path for c in dd_api.calls if c.method == "DELETE"]
    assert deleted == []  # the seeded copy of test/up was kept and matched as the original
    assert {theirs, prod, twin} <= set(dd_api.monitors) and dashboard in dd_api.dashboards
    again = dd_api.seed_monitor(bundle.monitors["test/up"])  # a second copy: a duplicate
    counts, said = run(dd_api, bundle, prune=True)
    assert [c.path for c in dd_api.calls if c.method == "DELETE"] == [f"/api/v1/monitor/{again}"]
    assert counts["deleted"] == 1 and "orphan" in said


def test_an_edit_made_in_datadog_is_put_back(tmp_path: Path, dd_api: FakeDatadogApi) -> None:
    bundle = bundle_with(tmp_path)
    run(dd_api, bundle)
    edited = next(i for i, m in dd_api.monitors.items() if "volume ratio" in m["name"])
    dd_api.monitors[edited]["query"] = dd_api.monitors[edited]["query"].replace("0.7", "0.5")
    first = next(iter(dd_api.dashboards))
    dd_api.dashboards[first]["widgets"].pop()
    counts, _ = run(dd_api, bundle)
    puts = sorted(c.path for c in dd_api.calls if c.method == "PUT")
    assert puts == sorted([f"/api/v1/monitor/{edited}", f"/api/v1/dashboard/{first}"])
    assert dd_api.monitors[edited]["query"].endswith("< 0.7")
    assert counts["updated"] == 2


def test_datadog_refusing_is_one_clear_error_without_keys(
        tmp_path: Path, dd_api: FakeDatadogApi) -> None:
    dd_api.status = 403
    with pytest.raises(WatchdogError) as caught:
        run(dd_api, bundle_with(tmp_path))
    text = str(caught.value)
    assert text.startswith("Datadog answered 403") and "GET /api/v1/monitor" in text
    assert "monitors_read" in text and API_KEY not in text and APP_KEY not in text
