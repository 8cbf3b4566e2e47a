"""requirements.lock pins exactly what the project's dependencies resolve to, and every
install that CI tests or the image ships goes through it: what was tested is what runs."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
CONSTRAINED = "-c requirements.lock"


def pinned() -> dict[str, str]:
    """The lock's ``name==version`` lines, by canonical name."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not name==version"
            pins[canonicalize_name(name)] = version
    return pins


def resolved() -> dict[str, str]:
    """Every distribution that ml-watchdog with all its extras needs, as installed here:
    the dependency closure walked through the installed distributions' metadata."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    todo = [Requirement(r) for r in [*project["dependencies"], *sum(extras.values(), [])]]
    seen: dict[tuple[str, frozenset[str]], str] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name == "ml-watchdog":  # one extra naming others: ml-watchdog[postgres]
            todo += [Requirement(r) for extra in req.extras for r in extras[extra]]
            continue
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        dist = md.distribution(req.name)  # PackageNotFoundError: not installed at all
        seen[key] = dist.version
        wanted = [{"extra": e} for e in req.extras] or [{"extra": ""}]
        for text in dist.requires or ():
            dep = Requirement(text)
            if dep.marker is None or any(dep.marker.evaluate(env) for env in wanted):
                todo.append(dep)
    return {name: version for (name, _), version in seen.items()}


def test_the_lock_pins_every_resolved_distribution_at_its_installed_version() -> None:
    pins, needed = pinned(), resolved()
    missing = sorted(set(needed) - set(pins))
    assert not missing, f"not in requirements.lock (run .ci/lock): {missing}"
    drifted = {n: (pins[n], v) for n, v in needed.items() if pins[n] != v}
    assert not drifted, f"lock != installed (lock, installed); run .ci/lock: {drifted}"
    stale = sorted(set(pins) - set(needed))
    assert not stale, f"requirements.lock pins what nothing needs (run .ci/lock): {stale}"


def test_ci_the_quick_start_and_the_image_install_through_the_lock() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## Quick start"):].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [x for x in block.splitlines() if x.strip() and not x.startswith("#")]
    assert len(lines) == 2 and all(CONSTRAINED in x for x in lines), lines
    ci = (ROOT / ".ci" / "run").read_text()
    assert [x for x in ci.splitlines() if "pip install" in x] == [
        f".venv/bin/pip install -q {CONSTRAINED} -e '.[test]'",
        # dbt's own venv for tests/pipelines/test_dbt.py, pinned by its own lock
        ".venv-dbt/bin/python -m pip install -q -c .ci/dbt.lock dbt-duckdb dbt-core"]
    spec = importlib.util.spec_from_file_location("dockerfile_steps",
                                                  ROOT / ".ci" / "dockerfile_steps.py")
    assert spec is not None and spec.loader is not None
    steps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(steps)
    stage = steps.build_stage(ROOT / "Dockerfile")
    copied = [s for s in stage if s.startswith("COPY") and "requirements.lock" in s.split()]
    installs = [s for s in stage if s.startswith("RUN") and "pip install" in s]
    assert copied and installs and all(CONSTRAINED in s for s in installs), stage
    contributing = (ROOT / "docs" / "contributing.md").read_text()
    assert re.search(r"\.ci/lock", contributing), "docs/contributing.md: how to regenerate the lock"
