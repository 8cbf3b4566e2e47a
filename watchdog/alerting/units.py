"""A result as the alerts it stands for: one per group of a grouped monitor, else one.

A volume monitor grouped by model judges each model apart; a drop of one model is that
model's alert (its own aggregation key, open, updates and recovery) and goes to that
model's owners, not to every team reading the table. Findings without a group (and every
result that could not run, ERROR) belong to the monitor's table-level alert.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from watchdog.alerting.policy import dedup_key, group_label
from watchdog.models import CheckResult, Finding, Group, Status, worst


@dataclass(frozen=True, slots=True)
class Unit:
    """One alert's share of a result: its dedup key, its group, and the result narrowed to
    the findings about it (status, reasons and summary recomputed from them)."""

    key: str
    group: Group
    result: CheckResult


def split(result: CheckResult) -> list[Unit]:
    """The alert units of ``result``, table-level first, then groups in finding order."""
    if result.status is Status.ERROR or not any(f.group for f in result.findings):
        return [Unit(dedup_key(result), (), result)]
    by_group: dict[Group, list[Finding]] = {}
    for f in result.findings:
        by_group.setdefault(f.group, []).append(f)
    units = [_unit(result, group, found) for group, found in by_group.items()]
    return sorted(units, key=lambda u: bool(u.group))


def _unit(result: CheckResult, group: Group, found: list[Finding]) -> Unit:
    problems = [f for f in found if f.status.is_problem]
    summary = "; ".join(f.message for f in problems) if problems else "; ".join(
        f.message for f in found[:3])
    if group:
        summary = f"{group_label(group)}: {summary}" if not summary.startswith(
            group_label(group)) else summary
    narrowed = replace(
        result, status=worst([f.status for f in found]), summary=summary or result.summary,
        reasons=tuple(dict.fromkeys(f.reason for f in problems)), findings=tuple(found))
    return Unit(dedup_key(result, group), group, narrowed)
