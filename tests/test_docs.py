"""The documentation holds together: its links lead somewhere, and every reason code a check
can emit is explained on some page of docs/."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from watchdog.checks.drift.analysis import PVALUES
from watchdog.daemon.runner import reason_code
from watchdog.errors import WatchdogError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]

#: Pages other branches add (issue #17): linked already, present once those branches merge.
ARRIVING = {DOCS / "architecture.md", DOCS / "adding-a-warehouse.md"}

#: ``[text](target)`` and ``![alt](target)``, target up to the first space or ``)``.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _links(page: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    return LINK.findall(text)


def _relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("#")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file(page: Path) -> None:
    broken = []
    for target in filter(_relative, _links(page)):
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists() and path not in ARRIVING:
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: links to missing files: {broken}"


def test_the_link_finder_finds_links() -> None:
    """Guard the regex: the README links to the docs pages."""
    assert "docs/configuration.md" in _links(ROOT / "README.md")


# -- reason codes -------------------------------------------------------------------------

CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


def _literal_codes() -> set[str]:
    """Every reason-code-shaped string literal in the checks and contract compiler: what
    ``Outcome.add``/``add_for`` and ``SchemaIssue(reason=...)`` are given, and tables of
    codes such as ``volume_baseline.REASONS``."""
    files = [*(ROOT / "watchdog" / "checks").rglob("*.py"),
             *(ROOT / "watchdog" / "contracts").rglob("*.py")]
    found = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if CODE.match(node.value):
                    found.add(node.value)
            # one-word codes (FRESH): the reason argument of Outcome.add / add_for
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                at = {"add": 1, "add_for": 2}.get(node.func.attr)
                if at is not None and len(node.args) > at:
                    arg = node.args[at]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.add(arg.value)
    return found


def _schema_change_codes() -> set[str]:
    """Schema findings are reported under their change kind, upper case."""
    kinds = set()
    for file in (ROOT / "watchdog" / "checks").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "SchemaChange"):
                for kw in node.keywords:
                    if kw.arg == "kind" and isinstance(kw.value, ast.Constant):
                        kinds.add(str(kw.value.value).upper())
    assert "COLUMN_RENAMED" in kinds  # the scan still finds them
    return kinds


def _drift_statistic_codes() -> set[str]:
    """``drift._reasons``: a feature's first crossed statistic names its reason."""
    from watchdog.checks.drift.analysis import FeatureDrift
    from watchdog.checks.drift.check import _reasons

    codes = set()
    for statistic in ("psi", "jensen_shannon", "ks_statistic", "ks_pvalue", "wasserstein",
                      "chi2_pvalue", "l_infinity"):
        side = "BELOW" if statistic in PVALUES else "ABOVE"
        codes.add(f"{statistic.upper()}_{side}_THRESHOLD")
        feature = FeatureDrift.__new__(FeatureDrift)
        feature.role, feature.crossed = "feature", {statistic: 0.1}
        assert _reasons(feature)[0][0] in codes  # the rule above is drift.py's rule
    return codes


def _error_codes() -> set[str]:
    """ERROR results carry ``reason_code(exc)``: one code per WatchdogError class."""
    importlib.import_module("watchdog.warehouses.bigquery")  # defines CostGuardRefused

    classes, todo = set(), [WatchdogError]
    while todo:
        cls = todo.pop()
        classes.add(cls)
        todo.extend(cls.__subclasses__())
    return {reason_code(cls.__new__(cls)) for cls in classes} | {"CHECK_CRASHED"}


def _documented() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md"))


def test_every_reason_code_is_documented() -> None:
    codes = _literal_codes() | _schema_change_codes() | _drift_statistic_codes() | _error_codes()
    assert {"DATA_STALE", "VOLUME_BELOW_BASELINE", "CHECK_TIMEOUT"} <= codes
    docs = _documented()
    missing = sorted(c for c in codes if not re.search(rf"`{c}`", docs))
    assert not missing, f"reason codes no page of docs/ explains (as `CODE`): {missing}"
