"""Every field a report interpolates is escaped: a table, column, category, monitor id or
mode holding markup comes out as text, never as markup."""

from __future__ import annotations

from datetime import UTC, datetime

from watchdog.checks.drift.analysis import Attribution, DriftAnalysis, FeatureDrift
from watchdog.reports.drift import render

EVIL = "<script>alert(1)</script>"
NOW = datetime(2026, 1, 5, tzinfo=UTC)


def hostile() -> DriftAnalysis:
    feature = FeatureDrift(
        name=f"f{EVIL}", type=f"numeric{EVIL}", role=f"feature{EVIL}",
        labels=[f"a{EVIL}", "b"], ref_counts=[5, 5], cur_counts=[9, 1],
        ref_missing_rate=0.0, cur_missing_rate=0.1, cur_rows=10,
        statistics={"psi": 0.5}, crossed={"psi": 0.2})
    return DriftAnalysis(
        monitor_id=f"m{EVIL}", table=f"t{EVIL}", window_start=NOW, window_end=NOW,
        profile_version=1, reference={"table": f"r{EVIL}", "start": EVIL, "end": EVIL},
        mode=f"bins{EVIL}", current_rows=10, features=[feature],
        attributions=[Attribution(feature=f"f{EVIL}", ref_mean_abs=1.0, cur_mean_abs=2.0,
                                  change=1.0, rank_change=1)])


def test_a_drift_report_escapes_every_field() -> None:
    page = render(hostile())
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for text in ("m", "t", "r", "f", "numeric", "feature", "bins", "a"):
        assert f"{text}&lt;script&gt;" in page, text
