"""Whole-monitor replay: two weeks of an ML service's warehouse, hour by hour, with planted
incidents of every kind, and what an on-call engineer would have received.
(``bench/volume/replay.py --whole`` runs it; the plain replay there judges volume alone.)

    .venv/bin/python bench/volume/replay.py --whole [--calendar/--no-calendar]

A DuckDB warehouse gets six weeks of prediction log for two models (churn: ~200/h by day,
fraud: ~80/h by day, ~40/h at night; features, scores, a daily cycle, quieter weekends):
four weeks of history, then two weeks replayed. Each replayed hour the rows of that hour
land, then ``Runner.run_pass`` runs every monitor of the replay's
config, exactly as ``watchdog run --once`` does, with the clock injected (no process per
hour, so two weeks take minutes); events go to a JSON Lines sink. Then every event that
@-mentions a team (a page) is matched to the planted incidents.

Per incident: caught (a page or a joined event while it lasts, or within 6 hours), delay
(hours from its start to the first page or joined event), the teams paged and whether
only the owning team was, and flaps (alerts of its monitors opened again during it).
Pages outside every incident are false pages; the holiday is not an incident.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

HOUR = timedelta(hours=1)
HISTORY = datetime(2026, 10, 12, tzinfo=UTC)  # a Monday: four weeks before the replay
START = datetime(2026, 11, 16, tzinfo=UTC)
END = datetime(2026, 11, 30, tzinfo=UTC)
HOLIDAY = date(2026, 11, 26)  # Thanksgiving (US), a Thursday: both models at 50 %
TEAMS = {"churn": "@pagerduty-churn", "fraud": "@pagerduty-fraud"}
GRACE = timedelta(hours=6)


@dataclass
class Incident:
    name: str
    start: datetime
    end: datetime
    team: str  # the owning team's model
    monitors: tuple[str, ...]
    # what happens to the data: see `rows`
    effect: dict[str, Any] = field(default_factory=dict)


def at(day: int, hour: int) -> datetime:
    return START + timedelta(days=day, hours=hour)


INCIDENTS = [
    Incident("churn daytime drop -60 %", at(1, 14), at(1, 18), "churn", ("volume",),
             {"model": "churn", "volume": 0.4}),
    Incident("fraud night drop -50 % (~40/h)", at(2, 1), at(2, 5), "fraud", ("volume",),
             {"model": "fraud", "volume": 0.5}),
    Incident("fraud outage (model stopped)", at(3, 9), at(3, 13), "fraud",
             ("freshness", "volume"), {"model": "fraud", "volume": 0.0}),
    Incident("churn f_num_1 drift (+1 sd)", at(4, 12), at(5, 12), "churn", ("drift_churn",),
             {"model": "churn", "shift": 1.0}),
    Incident("churn unseen category in f_cat_1", at(6, 10), at(6, 22), "churn",
             ("drift_churn",), {"model": "churn", "unseen": 0.05}),
    Incident("fraud null spike in f_num_3", at(7, 8), at(7, 16), "fraud", ("drift_fraud",),
             {"model": "fraud", "nulls": 0.3}),
    Incident("f_num_2 renamed upstream (reverted 6h later)", at(8, 10), at(8, 16), "both",
             ("schema", "drift_churn", "drift_fraud"), {"rename": True}),
    Incident("churn writer's clock 1 day ahead", at(9, 12), at(10, 12), "churn",
             ("freshness",), {"model": "churn", "future": 20}),
]


def rate(model: str, t: datetime) -> float:
    """Expected successful predictions per hour: daily cycle, quieter weekends."""
    day = {"churn": 200.0, "fraud": 80.0}[model]
    night = {"churn": 60.0, "fraud": 40.0}[model]
    cycle = night + (day - night) * max(0.0, np.sin(np.pi * (t.hour - 6) / 16)) \
        if 6 <= t.hour <= 22 else night
    weekend = 0.6 if t.weekday() >= 5 else 1.0
    holiday = 0.5 if t.date() == HOLIDAY else 1.0
    return cycle * weekend * holiday


def active(t: datetime, model: str, key: str) -> float | None:
    for inc in INCIDENTS:
        if inc.start <= t < inc.end and inc.effect.get("model") == model and key in inc.effect:
            return float(inc.effect[key])
    return None


def hour_rows(rng: np.random.Generator, t: datetime) -> pd.DataFrame:
    """The prediction log rows of hour ``t`` for both models."""
    frames = []
    for model in ("churn", "fraud"):
        left = active(t, model, "volume")
        n = int(rng.poisson(rate(model, t) * (1.0 if left is None else left)))
        if n == 0:
            continue
        shift = active(t, model, "shift") or 0.0
        cats = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
        if (share := active(t, model, "unseen")) is not None:
            cats[rng.random(n) < share] = "zz"
        f3 = rng.normal(10, 3, n)
        if (nulls := active(t, model, "nulls")) is not None:
            f3[rng.random(n) < nulls] = np.nan
        frames.append(pd.DataFrame({
            "predicted_at": [(t + timedelta(seconds=int(s))).replace(tzinfo=None)
                             for s in rng.integers(0, 3600, n)],
            "model": model, "status": np.where(rng.random(n) < 0.02, "error", "ok"),
            "score": rng.beta(2, 5, n), "f_num_1": rng.normal(shift, 1, n),
            "f_num_2": rng.normal(5, 2, n), "f_num_3": f3, "f_cat_1": cats}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


CONFIG = """\
env: replay
{holidays}alerting: {{recover_after: 2}}
daemon: {{workers: 1}}
state: {{url: 'sqlite:///{state}'}}
sinks: {{jsonl: {{path: '{out}'}}}}
warehouses:
  wh: {{type: duckdb, settings: {{path: '{db}'}}}}
ownership:
  teams:
    churn_team: {{datadog: ["@pagerduty-churn"]}}
    fraud_team: {{datadog: ["@pagerduty-fraud"]}}
  models:
    churn: {{team: churn_team, reads: [{{table: main.predictions,
             columns: [f_num_1, f_num_2, f_cat_1, score]}}]}}
    fraud: {{team: fraud_team, reads: [{{table: main.predictions,
             columns: [f_num_2, f_num_3, score]}}]}}
monitors:
  - {{id: schema, kind: schema, warehouse: wh, tables: [main.predictions]}}
  - {{id: freshness, kind: freshness, warehouse: wh, table: main.predictions,
     time_column: predicted_at, max_age: 1h, group_by: [model]}}
  - {{id: volume, kind: volume, warehouse: wh, table: main.predictions,
     time_column: predicted_at, success: {{column: status, value: ok}}, group_by: [model]}}
{drift}"""

DRIFT = """\
  - id: drift_{m}
    kind: drift
    warehouse: wh
    models: [{m}]
    table: main.predictions
    time_column: predicted_at
    where: [{{column: model, value: {m}}}]
    reference: {{table: main.predictions, time_column: predicted_at,
                start: 2026-10-12T00:00:00Z, end: 2026-11-09T00:00:00Z,
                where: [{{column: model, value: {m}}}]}}
    features: [{features}]
    prediction_columns: [score]
"""


def write_config(work: Path, calendar: bool) -> Path:
    drift = DRIFT.format(m="churn", features="f_num_1, f_num_2, f_cat_1") + \
        DRIFT.format(m="fraud", features="f_num_2, f_num_3")
    text = CONFIG.format(holidays="holidays: {country: US}\n" if calendar else "",
                         state=work / "state.db", out=work / "emitted.jsonl",
                         db=work / "warehouse.duckdb", drift=drift)
    (work / "config.yaml").write_text(text)
    return work / "config.yaml"


def hours(start: datetime, end: datetime) -> Iterator[datetime]:
    t = start
    while t < end:
        yield t
        t += HOUR


def replay(work: Path, calendar: bool, progress: bool = True) -> list[dict[str, Any]]:
    """Build the history, replay two weeks hour by hour; every event sent, with its time."""
    from watchdog.daemon.runner import open_runner
    from watchdog.load import load_config

    rng = np.random.default_rng(7)
    db = work / "warehouse.duckdb"
    # written through plain duckdb.connect, as watchdog reads it: DuckDB refuses a second
    # connection to one file with another configuration in one process
    con = duckdb.connect(str(db))
    history = pd.concat([hour_rows(rng, t) for t in hours(HISTORY, START)])  # noqa: F841 (read by name below: DuckDB's replacement scan)
    con.execute("CREATE TABLE predictions AS SELECT * FROM history")
    config = load_config(write_config(work, calendar))
    clock = [START]
    runner = open_runner(config)
    runner.clock = lambda: clock[0]
    renamed = False
    try:
        for n, t in enumerate(hours(START, END)):
            renamed = _schema_drift(con, t, renamed)
            frame = hour_rows(rng, t)
            frame = frame.rename(columns={"f_num_2": "f_num_2_v2"}) if renamed else frame
            _future(frame, t)
            if len(frame):
                con.register("part", frame)
                con.execute("INSERT INTO predictions BY NAME SELECT * FROM part")
                con.unregister("part")
            clock[0] = t + HOUR + timedelta(minutes=5)  # the hourly poll, just after
            runner.run_pass()
            if progress and n % 24 == 23:
                print(f"  replayed {t:%Y-%m-%d}", file=sys.stderr, flush=True)
    finally:
        runner.close()
        con.close()
    lines = (work / "emitted.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["type"] == "event"]


def _schema_drift(con: Any, t: datetime, renamed: bool) -> bool:
    inc = next(i for i in INCIDENTS if i.effect.get("rename"))
    if not renamed and inc.start <= t < inc.end:
        con.execute("ALTER TABLE predictions RENAME COLUMN f_num_2 TO f_num_2_v2")
        return True
    if renamed and t >= inc.end:
        con.execute("ALTER TABLE predictions RENAME COLUMN f_num_2_v2 TO f_num_2")
        return False
    return renamed


def _future(frame: pd.DataFrame, t: datetime) -> None:
    """The skewed writer: some of churn's rows of the incident's first hour dated +1 day."""
    inc = next(i for i in INCIDENTS if "future" in i.effect)
    if t != inc.start or not len(frame):
        return
    idx = frame.index[frame["model"] == "churn"][: inc.effect["future"]]
    frame.loc[idx, "predicted_at"] = frame.loc[idx, "predicted_at"] + timedelta(days=1)


def pages_of(event: dict[str, Any]) -> set[str]:
    return {m for m, h in TEAMS.items() if h in event["text"]} \
        if event["alert_type"] in ("error", "warning") else set()


def monitor_of(event: dict[str, Any]) -> str:
    tags = [t for t in event.get("tags", []) if t.startswith("monitor:")]
    return tags[0].split(":", 1)[1] if tags else "?"


def score(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Per incident: caught, delay, teams paged, flaps; and the false pages."""
    rows, used = [], set()
    for inc in INCIDENTS:
        mine = [(k, e) for k, e in enumerate(events) if monitor_of(e) in inc.monitors
                and e["alert_type"] in ("error", "warning")
                and inc.start <= _when(e) <= inc.end + GRACE]
        used |= {k for k, _ in mine}
        first = min((_when(e) for _, e in mine), default=None)
        teams = set().union(*(pages_of(e) for _, e in mine)) if mine else set()
        owners = {"churn", "fraud"} if inc.team == "both" else {inc.team}
        # a flap: an alert of the incident's monitors opened again after it recovered
        # (an event joined to another monitor's incident shares its key: not a flap)
        recovered_keys, reopened = set(), 0
        for e in sorted((e for e in events if monitor_of(e) in inc.monitors
                         and inc.start <= _when(e) <= inc.end + GRACE), key=_when):
            if e["alert_type"] == "success":
                recovered_keys.add(e["aggregation_key"])
            elif e["aggregation_key"] in recovered_keys:
                reopened += 1
                recovered_keys.discard(e["aggregation_key"])
        rows.append({
            "incident": inc.name, "caught": first is not None,
            "delay_h": None if first is None else round((first - inc.start) / HOUR, 2),
            "pages": {t: sum(t in pages_of(e) for _, e in mine) for t in sorted(teams)},
            "only_owners": teams <= owners and bool(teams),
            "flaps": reopened,
            "recovered": any(e["alert_type"] == "success" and monitor_of(e) in inc.monitors
                             and inc.start <= _when(e) for e in events)})
    false = [e for k, e in enumerate(events) if k not in used and pages_of(e)]
    return {"incidents": rows, "false_pages": len(false),
            "false_page_titles": sorted({e["title"][:90] for e in false})[:10]}


def _when(event: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(event["date_happened"], UTC)


def main(calendar: bool = True, keep: str | None = None) -> int:
    """Replay, score, print the scores as JSON; ``keep``: also write every event there."""
    work = Path(tempfile.mkdtemp(prefix="replay-"))
    started = time.monotonic()
    try:
        events = replay(work, calendar)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if keep:
        Path(keep).write_text("".join(json.dumps(e) + "\n" for e in events))
    result = score(events)
    result.update(calendar=calendar, events=len(events),
                  seconds=round(time.monotonic() - started, 1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main("--no-calendar" not in sys.argv))

