"""Soak: hundreds of schema changes, watchdog killed at random, nothing lost.

    .venv/bin/python bench/crash/soak.py [--changes 300] [--seed 7]

On the local Postgres (127.0.0.1:5432, database test), a table gets one new column per
round (``c0001``, ``c0002``, …). Each round then runs ``watchdog run --once`` (schema monitor
on that table, delivering to a loopback Datadog API over HTTP) and kills it with SIGKILL in
one of three ways, drawn at random:

- at a named crash point (``WATCHDOG_CRASH_AT``, any of ``watchdog.crashpoints.POINTS``,
  at its first or second passage);
- from outside, after a random delay of 0.3-1.5 s (wherever it is: importing, querying,
  committing, sending);
- from inside the fake Datadog, while a request is in flight (after Datadog took it);

or lets it finish (one round in five). A final clean run drains the outbox. Then every
column must be named in some event Datadog accepted: ``lost`` counts columns never named;
``duplicated`` counts columns named by more than one accepted event (only a kill during an
in-flight request may cause that). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.sinks.sink_fakes import FakeDatadog, Request, serve  # noqa: E402
from watchdog.crashpoints import POINTS  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COLUMN = re.compile(r"\bc\d{4}\b")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    engine = sa.create_engine(POSTGRES)
    schema = f"soak_{uuid.uuid4().hex[:8]}"
    fake = FakeDatadog()
    server = serve(fake)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(f'CREATE TABLE "{schema}".t (id INT)'))
    (work / "config.yaml").write_text(
        "env: soak\nwarehouses:\n  pg: {type: postgres, settings: {url: "
        f"'{POSTGRES.replace('+psycopg', '')}'}}}}\n"
        "sinks:\n  datadog: {transport: http, api_key: soak-key, api_url: '${DD_API_URL}'}\n"
        "daemon: {heartbeat: 1h}\n"
        f"monitors:\n  - {{id: sch, kind: schema, warehouse: pg, tables: [{schema}.t]}}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DD_API_URL": fake.url}
    ways: dict[str, int] = {}
    started = time.monotonic()
    try:
        run(work, env)  # the baseline
        for i in range(1, args.changes + 1):
            with engine.begin() as conn:
                conn.execute(sa.text(f'ALTER TABLE "{schema}".t ADD COLUMN c{i:04d} INT'))
            way = one_round(work, env, fake, rng)
            ways[way] = ways.get(way, 0) + 1
            if i % 25 == 0:
                print(f"[{i}/{args.changes}] {time.monotonic() - started:.0f}s", file=sys.stderr)
        run(work, env)  # drain what is left
    finally:
        server.shutdown()
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    named = tally(fake.accepted())
    expected = [f"c{i:04d}" for i in range(1, args.changes + 1)]
    print(json.dumps({
        "changes": args.changes, "lost": sum(named.get(c, 0) == 0 for c in expected),
        "duplicated": sum(named.get(c, 0) > 1 for c in expected),
        "events_accepted": sum(r.path == "/api/v1/events" for r in fake.accepted()),
        "rounds_by_kill": dict(sorted(ways.items())),
        "seconds": round(time.monotonic() - started, 1),
    }))
    return 0


def one_round(work: Path, env: dict[str, str], fake: FakeDatadog, rng: random.Random) -> str:
    """Run once, killed one way or another; returns which."""
    way = rng.choice(["point", "point", "outside", "in_flight", "none"])
    if way == "point":
        point = f"{rng.choice(POINTS)}@{rng.choice([1, 2])}"
        run(work, {**env, "WATCHDOG_CRASH_AT": point})
        return f"point:{point.partition('@')[0]}"
    proc = start(work, env)
    if way == "outside":
        try:
            proc.wait(timeout=rng.uniform(0.3, 1.5))
        except subprocess.TimeoutExpired:
            proc.kill()
    elif way == "in_flight":
        fake.on_receive = lambda r: proc.kill() if r.path == "/api/v1/events" else None
    proc.communicate(timeout=120)
    fake.on_receive = None
    return way if proc.returncode == -signal.SIGKILL else f"{way} (finished)"


def start(work: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "watchdog", "run", "--once"], cwd=work,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            text=True)


def run(work: Path, env: dict[str, Any]) -> None:
    start(work, env).communicate(timeout=120)


def tally(requests: list[Request]) -> dict[str, int]:
    """How many accepted events name each column (in their diff table)."""
    out: dict[str, int] = {}
    for r in requests:
        if r.path == "/api/v1/events":
            for column in set(COLUMN.findall(r.body.get("text", ""))):
                out[column] = out.get(column, 0) + 1
    return out


if __name__ == "__main__":
    sys.exit(main())
