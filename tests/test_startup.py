"""Start-up stays light: loading the CLI, the runner and every check kind (what validating a
config does before the first query) imports none of the heavy libraries; each is imported
where it is first used (``watchdog.lazy``, imports inside functions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ["scipy", "numpy", "pandas", "pandera", "sqlglot", "datadog", "datadog_api_client"]
MODULES = ["watchdog.cli", "watchdog.daemon.runner", "watchdog.checks.drift.check",
           "watchdog.checks.schema.check", "watchdog.checks.contract.check",
           "watchdog.checks.volume.check", "watchdog.checks.freshness.check",
           "watchdog.warehouses.duckdb", "watchdog.warehouses.postgres", "watchdog.state"]


def test_loading_the_cli_and_every_check_kind_imports_no_heavy_library() -> None:
    code = (f"import sys\nfor m in {MODULES!r}:\n    __import__(m)\n"
            f"print(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == []


def test_the_stand_in_imports_on_first_use() -> None:
    code = ("import sys\nfrom watchdog.checks import stats\n"
            "before = 'numpy' in sys.modules\n"
            "stats.psi([1, 2], [2, 1])\n"
            "print(before, 'numpy' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "True", "False"]  # PSI needs numpy, not scipy


def test_each_kind_s_settings_are_its_check_s_params() -> None:
    from watchdog.checks import PARAMS, REGISTRY, get_check, get_params

    assert set(PARAMS) == set(REGISTRY)
    for kind in REGISTRY:
        assert get_params(kind) is get_check(kind).Params


def test_validating_a_config_imports_no_check_module() -> None:
    # the demo config has a monitor of every kind but access; each check module is imported
    # by the first monitor of its kind that runs, in its thread, not before the first query
    code = ("import sys\nfrom watchdog.load import load_config\n"
            "config = load_config('config.yaml', {})\n"
            "print(__import__('json').dumps([sorted({m.kind for m in config.monitors}), "
            "sorted(m for m in sys.modules if m.startswith('watchdog.checks.') "
            "and m.endswith('.check'))]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent.parent)
    kinds, checks = json.loads(out.stdout)
    assert len(kinds) >= 5
    assert checks == []


#: Run ``watchdog run --once`` and print what was imported when the first statement was about
#: to be sent to the warehouse (a listener on every executor; the state store has none).
FIRST_QUERY = r"""
import json, runpy, sys
import watchdog.warehouses.executor as wx
seen = []
def first(*_):
    if not seen:
        seen.append(sorted(sys.modules))
init = wx.Executor.__init__
def hooked(self, *a, **k):
    init(self, *a, **k)
    self.listen(first)
wx.Executor.__init__ = hooked
sys.argv = ["watchdog", "run", "--once"]
try:
    runpy.run_module("watchdog", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(seen[0]))
"""
CONFIG = """
warehouses:
  wh: {type: duckdb, settings: {path: wh.duckdb}}
state: {url: "sqlite:///state.db"}
sinks: {jsonl: {path: emitted.jsonl}}
daemon: {workers: 1}
monitors:
  - {id: fresh, kind: freshness, warehouse: wh, table: main.predictions,
     time_column: predicted_at, where: [{column: status, op: "=", value: success}],
     max_age: 3h}
  - {id: score_drift, kind: drift, warehouse: wh, table: main.predictions,
     time_column: predicted_at, window: 1d, features: [], prediction_columns: [score],
     reference: {table: main.predictions, time_column: predicted_at, start_ago: 5w,
                 end_ago: 1w}}
"""


def _first_query_modules(folder: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-c", FIRST_QUERY], capture_output=True, text=True,
                         cwd=folder, check=True)
    modules: list[str] = json.loads(out.stdout.splitlines()[-1])
    return modules


def test_nothing_heavy_is_imported_before_the_first_query(tmp_path: Path) -> None:
    import duckdb

    with duckdb.connect(str(tmp_path / "wh.duckdb")) as conn:
        conn.execute("CREATE TABLE predictions AS SELECT TIMESTAMP '2026-01-01' + i * "
                     "INTERVAL 1 HOUR AS predicted_at, CASE WHEN i % 5 = 0 THEN 'error' ELSE "
                     "'success' END AS status, i / 100.0 AS score FROM range(200) t(i)")
    (tmp_path / "config.yaml").write_text(CONFIG)
    first = _first_query_modules(tmp_path)  # renders the freshness query, and keeps it
    again = _first_query_modules(tmp_path)  # a later run: the query is kept rendered
    for modules in (first, again):
        tops = {m.split(".")[0] for m in modules}
        assert tops.isdisjoint(["scipy", "numpy", "pandas", "pandera", "datadog",
                                "datadog_api_client", "duckdb_engine"]), tops
        # the drift monitor has not started: its settings are loaded, not its check
        assert "watchdog.checks.drift.params" in modules
        assert not [m for m in modules if m.startswith("watchdog.checks.drift.")
                    and m != "watchdog.checks.drift.params"]
    assert "sqlglot" in first
    assert "sqlglot" not in again
