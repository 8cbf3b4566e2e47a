"""The demo, run once for these tests: its config and everything it emitted.

``watchdog demo`` runs in a subprocess in a temporary folder (as the quick start does) and
writes ``.watchdog/emitted.jsonl``: the names and tags of every metric, service check and
event watchdog sends. Queries in dashboards and monitors are checked against that file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.dashboards.dd_api_fake import FakeDatadogApi, serve
from watchdog.config.models import Config
from watchdog.load import load_config

ROOT = Path(__file__).resolve().parents[2]
ENV = "test"
API_KEY = "dd-api-0123456789abcdef-not-real"
APP_KEY = "dd-app-fedcba9876543210-not-real"


def watchdog(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "WATCHDOG_ENV": ENV, **env}
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_API_URL", "DD_SITE"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run([sys.executable, "-m", "watchdog", *args], cwd=folder, env=full,
                          capture_output=True, text=True, timeout=180)


def copy_demo(folder: Path, **changes: object) -> Path:
    """config.yaml (with top-level keys replaced by ``changes``) and contracts/ in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config.update(changes)
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copytree(ROOT / "contracts", folder / "contracts", dirs_exist_ok=True)
    return folder / "config.yaml"


def load(path: Path) -> Config:
    """The config as the demo's subprocess read it (``WATCHDOG_ENV=test``)."""
    return load_config(str(path), env={**os.environ, "WATCHDOG_ENV": ENV})


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where ``watchdog demo`` has run: config.yaml, contracts/, .watchdog/."""
    folder = tmp_path_factory.mktemp("demo")
    copy_demo(folder)
    run = watchdog(folder, "demo")
    assert run.returncode == 0, run.stderr
    assert (folder / ".watchdog" / "emitted.jsonl").is_file()
    return folder


@pytest.fixture()
def demo_config(demo: Path) -> Config:
    return load(demo / "config.yaml")


@pytest.fixture()
def dd_api() -> Iterator[FakeDatadogApi]:
    fake = FakeDatadogApi()
    server = serve(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
