"""``watchdog datadog export|apply|preview`` as a user runs them (subprocesses), and the
demo with ``mentions: monitors`` sending its events to a loopback Datadog."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.dashboards.conftest import API_KEY, APP_KEY, copy_demo, load, watchdog
from tests.dashboards.dd_api_fake import FakeDatadogApi
from tests.sinks.sink_fakes import FakeDatadog, serve
from watchdog.dashboards import build
from watchdog.sinks.mentions import has_mention

KEYS = {"DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY}


def count_widgets(items: list[dict]) -> int:
    return sum(1 + count_widgets(i["definition"].get("widgets", [])) for i in items)


def test_export_writes_the_api_bodies_and_a_rerun_changes_nothing(demo: Path) -> None:
    first = watchdog(demo, "datadog", "export", "-o", "dd")
    assert first.returncode == 0, first.stderr
    bundle = build(load(demo / "config.yaml"))
    written = {p.stem: json.loads(p.read_text()) for p in (demo / "dd").rglob("*.json")}
    assert written["model.churn_model"] == bundle.dashboards["test/dashboard/model/churn_model"]
    assert written["status.labels_freshness"] == bundle.monitors["test/status/labels_freshness"]
    assert len(written) == len(bundle.dashboards) + len(bundle.monitors)
    again = watchdog(demo, "datadog", "export", "-o", "dd")
    assert "(0 file(s) changed)" in again.stdout
    stale = demo / "dd" / "monitors" / "status.gone.json"  # an object that left the config
    stale.write_text(json.dumps({"tags": ["managed-by:ml-watchdog"]}))
    mine = demo / "dd" / "monitors" / "hand-made.json"  # not ours: kept
    mine.write_text("{}")
    third = watchdog(demo, "datadog", "export", "-o", "dd")
    assert "(1 file(s) changed)" in third.stdout and not stale.exists() and mine.exists()
    mine.unlink()


def test_apply_then_rerun_over_the_wire(demo: Path, dd_api: FakeDatadogApi) -> None:
    env = {**KEYS, "DD_API_URL": dd_api.url}
    first = watchdog(demo, "datadog", "apply", **env)
    assert first.returncode == 0, first.stderr
    total = len(dd_api.monitors) + len(dd_api.dashboards)
    assert f"{total} created, 0 updated, 0 unchanged" in first.stdout
    second = watchdog(demo, "datadog", "apply", "--dry-run", **env)
    assert second.returncode == 0 and second.stdout.strip() == (
        f"0 would be created, 0 would be updated, {total} unchanged "
        "(dry run: nothing was sent)")
    for run in (first, second):
        assert API_KEY not in run.stdout + run.stderr and APP_KEY not in run.stdout + run.stderr


def test_apply_without_keys_or_when_refused_says_one_line(
        demo: Path, dd_api: FakeDatadogApi) -> None:
    missing = watchdog(demo, "datadog", "apply", DD_API_KEY=API_KEY, DD_API_URL=dd_api.url)
    assert missing.returncode == 2 and dd_api.calls == []
    assert missing.stderr.count("\n") == 1 and "DD_APP_KEY" in missing.stderr
    dd_api.status = 403
    refused = watchdog(demo, "datadog", "apply", **KEYS, DD_API_URL=dd_api.url)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "Datadog answered 403" in refused.stderr and "Traceback" not in refused.stderr
    assert API_KEY not in refused.stderr and APP_KEY not in refused.stderr


def test_preview_draws_every_widget_from_the_demo_s_data(demo: Path) -> None:
    run = watchdog(demo, "datadog", "preview", "-o", "preview.html")
    assert run.returncode == 0, run.stderr
    page = (demo / "preview.html").read_text()
    bundle = build(load(demo / "config.yaml"))
    drawn = re.findall(r'data-widget="([a-z_]+)"(?: data-points="(\d+)")?', page)
    assert len(drawn) == sum(count_widgets(d["widgets"]) for d in bundle.dashboards.values())
    # every widget found the demo's data (its queries match what was sent, tag values too)
    # but one: the demo changes the schema of main.ground_truth, which churn_model does not read
    empty = [(article.split("</h1>")[0].rsplit(">", 1)[-1], title) for article in
             page.split('<article class="dashboard">')[1:] for title in
             re.findall(r'data-points="0"><h3>([^<]*)</h3>', article)]
    assert empty == [("Model churn_model · ml-watchdog (test)",
                      "schema_changes: schema changes per table and kind")]
    retention = page.split("<h1>Model retention_uplift")[1].split("</article>")[0]
    assert "main.ground_truth · column_renamed" in retention
    assert "no preview for" not in page and "<script" not in page
    assert page.count('<article class="dashboard">') == len(bundle.dashboards)


def test_preview_without_emitted_data_says_how_to_get_it(tmp_path: Path) -> None:
    copy_demo(tmp_path)
    run = watchdog(tmp_path, "datadog", "preview")
    assert run.returncode == 2 and "watchdog demo" in run.stderr
    assert run.stderr.count("\n") == 1


def test_demo_with_mentions_monitors_sends_no_mention(tmp_path: Path) -> None:
    fake = FakeDatadog()
    server = serve(fake)
    try:
        datadog = {"transport": "http", "api_key": "${DD_API_KEY}", "api_url": fake.url,
                   "mentions": "monitors"}
        copy_demo(tmp_path, sinks={"console": {}, "datadog": datadog})
        run = watchdog(tmp_path, "demo", DD_API_KEY=API_KEY)
        assert run.returncode == 0, run.stderr
    finally:
        server.shutdown()
        server.server_close()
    texts = [r.body["text"] for r in fake.accepted() if r.path == "/api/v1/events"]
    assert len(texts) >= 5 and not any(has_mention(t) for t in texts)
    assert any("slack-growth-ml" in t for t in texts)  # the owners are still named


def test_a_typo_in_mentions_is_a_config_error_with_file_and_line(tmp_path: Path) -> None:
    copy_demo(tmp_path, sinks={"console": {}, "datadog": {"mentions": "monitor"}})
    run = watchdog(tmp_path, "validate")
    assert run.returncode == 2
    assert re.search(r"config\.yaml:\d+: sinks\.datadog\.mentions: .*'events' or 'monitors'",
                     run.stderr), run.stderr


def test_preview_replay_draws_lines_and_leaves_the_state_store_alone(demo: Path) -> None:
    state = (demo / ".watchdog" / "state.db").read_bytes()
    run = watchdog(demo, "datadog", "preview", "--model", "churn_model", "--replay", "1d",
                   "-o", "churn.html")
    assert run.returncode == 0, run.stderr
    page = (demo / "churn.html").read_text()
    assert page.count('<article class="dashboard">') == 1 and "Model churn_model" in page
    volume = re.search(r'data-points="(\d+)"><h3>predictions_volume: successful predictions',
                       page)
    assert volume and int(volume[1]) >= 3 * 24  # count, expected and band for 24 windows
    assert (demo / ".watchdog" / "state.db").read_bytes() == state
    unknown = watchdog(demo, "datadog", "preview", "--model", "churn")
    assert unknown.returncode == 2 and "did you mean 'churn_model'?" in unknown.stderr
