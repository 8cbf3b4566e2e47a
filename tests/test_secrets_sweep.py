"""No secret is ever shown: every command, run as a user runs it (real processes, DEBUG
logs), through the mistakes users make, with distinct secrets planted in the environment.

The commands are read from the CLI's own parser, so a new command is swept too (it only
needs its arguments in ARGS). Each run must exit with a code and no traceback; then no
planted secret (nor its URL-encoded form, nor a piece of a password split at its @ or :)
may appear in stdout, stderr, any file the commands wrote, or any row of the state store.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.sinks.sink_fakes import FakeDatadog, serve

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.postgres  # wrong logins are tried against the real server

# Each planted value is distinct; the passwords hold an unescaped @ and : (URLs).
PEM = ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nSnowKeyS3cretBodyAAAA\n"
       "-----END ENCRYPTED PRIVATE KEY-----\n")
BQ_KEY = "-----BEGIN PRIVATE KEY-----\nBqKeyS3cretBodyBBBB\n-----END PRIVATE KEY-----\n"
ENV = {
    "SWEEP_PG_PW": "PgS3cr@tW0rd:Xq7Zz",
    "SWEEP_PG_LOGIN_PW": "PgLoginS3cret77",
    "SWEEP_STATE_PW": "StS3c@teS3cret:PwZq9",
    "SWEEP_SF_PW": "SnowS3cretPw33",
    "SWEEP_SF_KEY": PEM,
    "SWEEP_SF_PASSPHRASE": "SnowPassphraseS3cret44",
    "SWEEP_RS_PW": "Redsh1ftS3cret66",
    "SWEEP_BQ_INFO": json.dumps({
        "type": "service_account", "project_id": "sweep", "private_key_id": "BqKeyIdS3cret55",
        "private_key": BQ_KEY, "client_email": "wd@sweep.iam.gserviceaccount.com",
        "token_uri": "http://127.0.0.1:9/token"}),
    "SWEEP_DD_KEY": "0123456789abcdefDdKeyS3cret00001",
    "DD_APP_KEY": "fedcba9876543210AppKeyS3cret0002",  # read by the Datadog settings
    "SWEEP_DD_SITE": "SiteS3cretVal",
    # not credentials, but from the environment too, and drivers echo them in their errors
    # ('role "…" does not exist') and DEBUG logs (the login packet)
    "SWEEP_PG_USER": "wd_role_S3cret",
    "SWEEP_PG_DB": "wd_db_S3cret",
    "SWEEP_RS_USER": "rs_user_S3cret",
    "SWEEP_SF_USER": "SF_USER_S3CRET",
    "SWEEP_AF_TOKEN": "AirflowTokenS3cret12",
    "SWEEP_AF_PW": "AirflowS3cr@tPw:13",
}
AUDIT_URL_PW = "AuditUrlS3cret88"  # a password given on the command line (--url)
#: What must never appear: every value, and the pieces a misparsed URL would leave.
MARKERS = sorted({*(v for v in ENV.values()), "SnowKeyS3cretBody", "BqKeyS3cretBody",
                  "BqKeyIdS3cret55", AUDIT_URL_PW, "PgS3cr", "tW0rd", "Xq7Zz", "StS3c",
                  "teS3cret", "PwZq9"})

#: Arguments of each command (its path in the parser), one list per run ({closed}: the
#: closed port). A command missing here fails the sweep. ``run --once`` reaches every
#: warehouse; commands that take one are run against the URL with an @ in its password and
#: against the login-less ones.
ARGS: dict[tuple[str, ...], list[list[str]]] = {
    ("validate",): [[]],
    ("run",): [["--once"]],
    ("demo",): [[]],
    ("contracts", "lint"): [[]],
    ("contracts", "infer"): [["pg", "public.t"], ["snowkey", "S.T"]],
    ("datadog", "export"): [["-o", "datadog"]],
    ("datadog", "apply"): [[]],
    ("datadog", "preview"): [["-o", "preview.html"]],
    ("health",): [[]],
    ("drift", "baseline"): [["pg_drift"]],
    ("drift", "report"): [["pg_drift", "-o", "drift.html"]],
    ("setup", "audit"): [["--warehouse", "pglogin"],
                         ["--warehouse", "pg", "--url",
                          f"postgresql://postgres:{AUDIT_URL_PW}@127.0.0.1:{{closed}}/test"]],
    ("volume", "report"): [["pg_volume", "-o", "volume.html"]],
    ("backtest", "report"): [["pg_backtest", "-o", "backtest.html"]],
}
#: The commands that open the state store: the ones a bad state.url is swept through.
STATE_COMMANDS = {("run",), ("drift", "baseline"), ("volume", "report"), ("health",)}
#: Commands that need no warehouse, state or Datadog answer, so they succeed (exit 0) even
#: when everything else is unreachable.
SUCCEED = {("validate",), ("datadog", "export"), ("datadog", "preview")}


def commands(parser: argparse.ArgumentParser,
             prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every runnable command path in ``parser`` (``("contracts", "lint")``, …)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [prefix]
    return [path for name, sub in subs[0].choices.items()
            for path in commands(sub, (*prefix, name))]


WAREHOUSES = """\
warehouses:
  pg:
    type: postgres
    settings: {{url: "postgresql://watchdog:${{SWEEP_PG_PW}}@127.0.0.1:{closed}/test",
               connect_timeout: 2}}
  pglogin:
    type: postgres
    settings: {{host: 127.0.0.1, database: test, user: "${{SWEEP_PG_USER}}",
               password: "${{SWEEP_PG_LOGIN_PW}}"}}
  pgdb:
    type: postgres
    settings: {{host: 127.0.0.1, database: "${{SWEEP_PG_DB}}", user: postgres}}
  snow:
    type: snowflake
    settings: {{account: sweep, user: "${{SWEEP_SF_USER}}", database: SWEEP, host: 127.0.0.1,
               port: {closed}, protocol: http, login_timeout: 2, password: "${{SWEEP_SF_PW}}"}}
  snowkey:
    type: snowflake
    settings: {{account: sweep, user: WATCHDOG, database: SWEEP, host: 127.0.0.1,
               port: {closed}, protocol: http, login_timeout: 2,
               private_key: "${{SWEEP_SF_KEY}}",
               private_key_passphrase: "${{SWEEP_SF_PASSPHRASE}}"}}
  rs:
    type: redshift
    settings: {{host: 127.0.0.1, port: {closed}, database: dev, user: "${{SWEEP_RS_USER}}",
               timeout: 2,
               password: "${{SWEEP_RS_PW}}"}}
  bq:
    type: bigquery
    settings: {{project: sweep, credentials_info: "${{SWEEP_BQ_INFO}}", timeout: 2,
               api_endpoint: "http://127.0.0.1:{closed}"}}
  demo: {{type: duckdb, settings: {{path: demo/warehouse.duckdb}}}}
demo: {{warehouse: demo}}
pipelines:
  sources:
    af: {{type: airflow, url: "http://127.0.0.1:{closed}", token: "${{SWEEP_AF_TOKEN}}",
         timeout: 2}}
    afbasic: {{type: airflow, url: "http://127.0.0.1:{closed}", username: ops,
              password: "${{SWEEP_AF_PW}}", timeout: 2}}
  writes:
    - {{source: af, job: build/compute, tables: [public.t]}}
    - {{source: afbasic, job: build2, tables: [public.t]}}
"""
MONITORS = """\
monitors:
  - {id: pg_fresh, kind: freshness, warehouse: pg, table: public.t, time_column: ts, max_age: 1h}
  - {id: login_fresh, kind: freshness, warehouse: pglogin, table: public.t, time_column: ts,
     max_age: 1h}
  - {id: db_fresh, kind: freshness, warehouse: pgdb, table: public.t, time_column: ts,
     max_age: 1h}
  - {id: snow_fresh, kind: freshness, warehouse: snow, table: S.T, time_column: TS, max_age: 1h}
  - {id: key_fresh, kind: freshness, warehouse: snowkey, table: S.T, time_column: TS,
     max_age: 1h}
  - {id: rs_fresh, kind: freshness, warehouse: rs, table: public.t, time_column: ts, max_age: 1h}
  - {id: bq_fresh, kind: freshness, warehouse: bq, table: ds.t, time_column: ts, max_age: 1h}
  - {id: pg_schema, kind: schema, warehouse: pg, tables: [public.t]}
  - {id: pg_runs, kind: pipeline, warehouse: pg, table: public.t}
  - {id: pg_volume, kind: volume, warehouse: pg, table: public.p, time_column: ts,
     success: {column: status, op: "=", value: ok}}
  - {id: pg_drift, kind: drift, warehouse: pg, table: public.f, time_column: ts,
     reference: {table: public.r}, features: [x]}
  - {id: pg_backtest, kind: backtest, warehouse: pg, feedback_delay: 2d,
     predictions: {table: public.p, time_column: ts, key: [id], score: s},
     labels: {table: public.l, key: [id], label: y}}
"""
CONTRACT = """\
warehouse: pg
table: public.t
columns:
  x: {dtype: int64}
"""
DATADOG_FAILING = """\
  datadog: {transport: http, api_key: "${SWEEP_DD_KEY}", api_url: "%s", timeout: 2}
"""
DATADOG_BAD_SITE = """\
  datadog: {transport: http, api_key: "${SWEEP_DD_KEY}", site: "${SWEEP_DD_SITE}"}
"""


@dataclass
class Case:
    """One bad input: a config (and environment) the commands are run with."""

    name: str
    state_url: str = "sqlite:///.watchdog/state.db"
    datadog: str = DATADOG_FAILING
    config_error: bool = False  # every command must stop at the config: exit 2
    exit: int | None = None  # every command's exit code; None: 0 for SUCCEED, else 1
    every_variant: bool = False  # every argument list of ARGS, not just the first
    only: set[tuple[str, ...]] | None = None  # these commands only


CASES = [
    # every warehouse unreachable (closed loopback port) or refusing the login; Datadog
    # answers 500, so everything stays in the state store's outbox
    Case("unreachable", every_variant=True),
    Case("bad_site", datadog=DATADOG_BAD_SITE, config_error=True, exit=2),
    # state.url: unparseable (a port that is not a number: a usage error), or a login the
    # server refuses
    Case("state_unparseable", only=STATE_COMMANDS, exit=2,
         state_url="postgresql://wd:${SWEEP_STATE_PW}@127.0.0.1:notaport/test"),
    Case("state_bad_login", only=STATE_COMMANDS, exit=1,
         state_url="postgresql://wd_sweep_nobody:${SWEEP_STATE_PW}@127.0.0.1:5432/test"),
]


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port bound but never listening: connections to it are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture(scope="module")
def failing_datadog() -> Iterator[FakeDatadog]:
    fake = FakeDatadog(status=500)
    server = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()


def write_case(folder: Path, case: Case, closed: int, datadog_url: str) -> None:
    folder.mkdir()
    sinks = ("sinks:\n  console: {}\n  jsonl: {path: .watchdog/emitted.jsonl}\n"
             + case.datadog.replace("%s", datadog_url))
    state = f"state: {{url: \"{case.state_url.replace('{closed}', str(closed))}\"}}\n"
    text = "env: sweep\n" + WAREHOUSES.format(closed=closed) + state + sinks + MONITORS
    (folder / "config.yaml").write_text(text)
    (folder / "contracts").mkdir()
    (folder / "contracts" / "t.yaml").write_text(CONTRACT)


def run(folder: Path, command: tuple[str, ...],
        args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DATADOG_"))},
           **ENV, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "watchdog", "--log-level", "DEBUG", *command, *args]
    return subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=180)


def leaks(text: str) -> list[str]:
    return [m for m in MARKERS if m in text or quote(m, safe="") in text]


def stored_rows(folder: Path) -> str:
    """Every row of every table of the SQLite state store, as text."""
    path = folder / ".watchdog" / "state.db"
    if not path.exists():
        return ""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(repr(row) for t in tables
                         for row in db.execute(f'SELECT * FROM "{t}"'))


def sweep(folder: Path, case: Case, closed: int) -> list[str]:
    """Run every command of the case; the problems found, one line each."""
    from watchdog.cli import _parser

    found = []
    for command in commands(_parser()):
        if command not in ARGS:
            found.append(f"{' '.join(command)}: not in ARGS; add its arguments to the sweep")
            continue
        if case.only is not None and command not in case.only:
            continue
        for args in ARGS[command] if case.every_variant else ARGS[command][:1]:
            args = [a.replace("{closed}", str(closed)) for a in args]
            proc = run(folder, command, args)
            what = f"{case.name}: watchdog {' '.join((*command, *args))}"
            found += [f"{what}: prints {m!r}" for m in leaks(proc.stdout + proc.stderr)]
            if ours := our_traceback(proc.stderr):
                found.append(f"{what}: a traceback through watchdog:\n{ours}")
            want = case.exit if case.exit is not None else 0 if command in SUCCEED else 1
            if case.config_error and "problem(s) in the configuration" not in proc.stderr:
                found.append(f"{what}: no configuration problem said:\n{proc.stderr[-1500:]}")
            if proc.returncode != want:
                found.append(f"{what}: exit {proc.returncode}, not {want}:\n"
                             f"{proc.stderr[-1500:]}")
    return found


def our_traceback(stderr: str) -> str:
    """A traceback that passes through watchdog's code (a user mistake shown as a crash).
    Drivers log their own tracebacks at DEBUG (a retried connection); those stay in the
    driver's frames and are allowed."""
    blocks = stderr.split("Traceback (most recent call last):")[1:]
    package = str(ROOT / "watchdog")
    ours = [b for b in blocks if f'File "{package}' in b]
    return ours[0][:3000] if ours else ""


def test_no_command_shows_a_secret_through_any_mistake(
        tmp_path: Path, closed_port: int, failing_datadog: FakeDatadog) -> None:
    folders = {c.name: tmp_path / c.name for c in CASES}
    for case in CASES:
        write_case(folders[case.name], case, closed_port, failing_datadog.url)
    with ThreadPoolExecutor(len(CASES)) as pool:
        found = [p for ps in pool.map(lambda c: sweep(folders[c.name], c, closed_port), CASES)
                 for p in ps]
    for case in CASES:
        folder = folders[case.name]
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != "config.yaml":
                text = path.read_bytes().decode("utf-8", "replace")
                found += [f"{case.name}: {path.relative_to(folder)} holds {m!r}"
                          for m in leaks(text)]
        found += [f"{case.name}: the state store holds {m!r}"
                  for m in leaks(stored_rows(folder))]
    assert not found, "\n".join(found)
    # the sweep reached what it sweeps: Datadog was tried (and failed), state was written
    assert failing_datadog.requests
    stored = stored_rows(folders["unreachable"])
    assert "pg_fresh" in stored
    assert 'role "***" does not exist' in stored  # the driver echoed it; it was masked
