"""The import rules of DESIGN.md, held by a test: each outside library has one home."""

from __future__ import annotations

import ast
from pathlib import Path

from watchdog.warehouses.registry import EXTRAS, WAREHOUSES

PACKAGE = Path(__file__).resolve().parents[1] / "watchdog"

# library → the only modules (relative to watchdog/) allowed to import it
HOMES = {
    "apscheduler": {"daemon/scheduler.py"},
    "datadog": {"sinks/datadog/statsd.py"},
    "datadog_api_client": {"sinks/datadog/settings.py", "sinks/datadog/http.py",
                           "dashboards/api.py"},
    "duckdb": {"warehouses/duckdb.py", "demo.py"},
    "sqlite3": {"warehouses/sqlite.py"},
    "airflow_client": {"pipelines/airflow.py"},
    # dbt artifacts in object stores: each client in its folder's module
    "boto3": {"pipelines/s3.py"},
    "botocore": {"pipelines/s3.py"},
    # each optional driver's home is the adapter of its extra (warehouses/registry.py);
    # google-cloud-storage shares the google namespace with the BigQuery client
    **{driver: {WAREHOUSES[extra].partition(":")[0].replace("watchdog.", "", 1)
                .replace(".", "/") + ".py", *(("pipelines/gcs.py",) if driver == "google"
                                              else ())}
       for driver, extra in EXTRAS.items()},
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules() -> dict[str, set[str]]:
    return {str(p.relative_to(PACKAGE)): imports(p) for p in PACKAGE.rglob("*.py")}


def test_each_outside_library_is_imported_only_in_its_home() -> None:
    wrong = [
        f"{module} imports {name}"
        for module, names in modules().items()
        for name in names
        for lib, homes in HOMES.items()
        if (name == lib or name.startswith(lib + ".")) and module not in homes
    ]
    assert wrong == []


def test_checks_and_alerting_never_import_a_concrete_adapter_or_sink() -> None:
    wrong = [
        f"{module} imports {name}"
        for module, names in modules().items()
        if module.startswith(("checks/", "alerting/"))
        for name in names
        if name.startswith("watchdog.warehouses.") and name != "watchdog.warehouses.base"
        or name.startswith("watchdog.sinks") or name.startswith("watchdog.state")
    ]
    assert wrong == []


def test_alerting_does_no_io() -> None:
    banned = {"sqlalchemy", "socket", "requests", "urllib", "http", "subprocess"}
    wrong = [
        f"{module} imports {name}"
        for module, names in modules().items() if module.startswith("alerting/")
        for name in names if name.split(".")[0] in banned
    ]
    assert wrong == []


def test_imports_keep_the_layers_and_make_no_cycle() -> None:
    """pyproject's [tool.importlinter] contracts (layers, acyclic siblings) hold."""
    import subprocess
    import sys

    lint = Path(sys.executable).parent / "lint-imports"  # installed by the test extra
    done = subprocess.run([str(lint), "--no-cache", "--no-logo"], cwd=PACKAGE.parent,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_import_cycle_even_through_function_level_imports() -> None:
    """Every import statement counts, lazy ones inside functions too (.ci/import_cycles.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "import_cycles", PACKAGE.parent / ".ci" / "import_cycles.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.cycles(script.graph()) == []
