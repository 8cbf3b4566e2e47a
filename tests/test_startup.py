"""Start-up stays light: loading the CLI, the runner and every check kind (what validating a
config does before the first query) imports none of the heavy libraries; each is imported
where it is first used (``watchdog.lazy``, imports inside functions)."""

from __future__ import annotations

import json
import subprocess
import sys

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
