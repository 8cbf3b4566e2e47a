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
