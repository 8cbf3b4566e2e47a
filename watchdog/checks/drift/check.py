"""Data, feature and prediction drift of a table's current window against a stored reference
profile, computed in the warehouse (see ``drift.profile`` and ``drift.analysis``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from watchdog.checks.base import Check, CheckContext, History, Outcome, human
from watchdog.checks.drift.analysis import PVALUES, DriftAnalysis, FeatureDrift, analyse, early
from watchdog.checks.drift.params import DriftParams
from watchdog.checks.drift.profile import load_or_build
from watchdog.models import CheckResult, Status

WEEK = timedelta(days=7)


class DriftCheck(Check[DriftParams]):
    """WARN when features drift, FAIL when many do or a prediction column does."""

    KIND = "drift"
    Params = DriftParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        version, profile, built = load_or_build(ctx.history, ctx.warehouse, p, ctx.now)
        analysis = analyse(ctx.warehouse, p, profile, version, ctx.now)
        out = self.outcome(analysis.table)
        if built:
            out.notes.append(f"reference profile v{version} built")
        _columns_gone(out, analysis)
        if analysis.current_rows < p.min_rows:
            out.add(Status.SKIPPED, "TOO_FEW_ROWS",
                    f"{analysis.table}: {analysis.current_rows} rows in the window "
                    f"(minimum {p.min_rows}); drift not judged", rows=analysis.current_rows)
            return out.result(f"{analysis.table}: too few rows to judge drift")
        self._metrics(out, analysis)
        self._week_over_week(out, analysis, ctx.history, ctx.now, p)
        self._attribution(out, analysis, p)
        _unseen(out, analysis, p)
        if analysis.current_rows >= p.early_min_rows:  # else its recent part has fewer
            soon = early(ctx.warehouse, p, profile, version, ctx.now)
            if soon is not None and soon.current_rows >= p.early_min_rows:
                _early(out, analysis, soon, p)
        return self._result(out, analysis, p)

    @staticmethod
    def _metrics(out: Outcome, a: DriftAnalysis) -> None:
        for f in a.features:
            tags = (f"feature:{f.name}", f"role:{f.role}")
            for statistic, value in f.statistics.items():
                out.metric(statistic, value, *tags)
            out.metric("drifted", float(f.drifted), *tags)
        out.metric("share_drifted", a.share_drifted)
        out.metric("features_drifted", sum(f.drifted for f in a.judged))

    def _week_over_week(self, out: Outcome, a: DriftAnalysis, history: History | None,
                        now: datetime, p: DriftParams) -> None:
        """``watchdog.drift.<statistic>.wow_change``: relative change from a week earlier."""
        if history is None:
            return
        for metric in list(out.metrics):
            measure = metric.name.removeprefix("watchdog.drift.")
            if measure in PVALUES or measure in ("drifted", "features_drifted"):
                continue
            old = _week_earlier(history, p.id, metric.name, metric.tags, now)
            if old is None or old == 0:
                continue
            change = (metric.value - old) / abs(old)
            out.metric(f"{measure}.wow_change", change, *metric.tags[len(out.base_tags):])
            feature = _feature_of(a, metric.tags)
            limit = _judged_limit(feature, measure, p) if feature else None
            if (p.wow_increase is not None and change >= p.wow_increase and limit is not None
                    and metric.value >= limit / 2):
                assert feature is not None
                out.add(Status.WARN, "DRIFT_UP_WEEK_OVER_WEEK",
                        f"{feature.name}: {measure} {metric.value:.3g} is up {change:.0%} "
                        f"week over week (from {old:.3g})", feature=feature.name,
                        statistic=measure, value=metric.value, week_ago=old)

    @staticmethod
    def _attribution(out: Outcome, a: DriftAnalysis, p: DriftParams) -> None:
        for at in a.attributions:
            tags = (f"feature:{at.feature}",)
            out.metric("attribution_mean_abs", at.cur_mean_abs, *tags)
            out.metric("attribution_rank_change", at.rank_change, *tags)
            if at.change is not None:
                out.metric("attribution_change", at.change, *tags)
            if (p.attribution_change is not None and at.change is not None
                    and abs(at.change) >= p.attribution_change):
                out.add(Status.WARN, "ATTRIBUTION_DRIFT",
                        f"{at.feature}: mean |attribution| {at.ref_mean_abs:.3g} → "
                        f"{at.cur_mean_abs:.3g} ({at.change:+.0%}, rank {at.rank_change:+d})",
                        feature=at.feature, change=at.change, rank_change=at.rank_change)
        if a.rank_correlation is not None:
            out.metric("attribution_rank_correlation", a.rank_correlation)

    @staticmethod
    def _result(out: Outcome, a: DriftAnalysis, p: DriftParams) -> CheckResult:
        drifted = sorted((f for f in a.features if f.drifted), key=_severity, reverse=True)
        for f in drifted:
            status = Status.FAIL if f.role == "prediction" else Status.WARN
            details = {k: round(v, 6) for k, v in f.statistics.items()}
            # a changed missing rate is a signal of its own, with its own reason code
            for reason, crossed in _reasons(f):
                out.add(status, reason, f"{f.name}: {_crossings(f, crossed)}", feature=f.name,
                        role=f.role, **details)
        judged, share = a.judged, a.share_drifted
        n = sum(f.drifted for f in judged)
        if judged and share >= p.fail_share:
            out.add(Status.FAIL, "DATA_DRIFT", f"{n} of {len(judged)} features drifted "
                    f"({share:.0%} ≥ {p.fail_share:.0%})", share_drifted=share)
        head = ", ".join(f"{f.name} ({_crossings(f)})" for f in drifted[:5])
        more = f" and {len(drifted) - 5} more" if len(drifted) > 5 else ""
        result = out.result(f"{a.table}: no drift in {len(a.features)} columns "
                            f"({a.current_rows} rows in the window)")
        if not drifted:
            return result
        summary = f"{a.table}: drift in {len(drifted)} of {len(a.features)} columns: {head}{more}"
        others = [f.message for f in result.problems() if f.reason in _OWN_LINE
                  or "window" in f.details]
        return replace(result, summary="; ".join([summary, *others]))


#: Findings the summary names besides the drifted columns.
_OWN_LINE = frozenset({"COLUMN_MISSING", "TYPE_MISMATCH", "UNSEEN_CATEGORY"})


def _columns_gone(out: Outcome, a: DriftAnalysis) -> None:
    """A profiled column the table lost, or whose type left the numeric family: a finding
    about that column (FAIL: a model reading it cannot), the rest still judged."""
    for name, role in a.missing:
        out.add(Status.FAIL, "COLUMN_MISSING",
                f"{name}: no such column in {a.table} any more (it is in the reference "
                f"profile v{a.profile_version}): renamed or dropped upstream?",
                feature=name, column=name, role=role)
    for name, role, family in a.mismatched:
        out.add(Status.FAIL, "TYPE_MISMATCH",
                f"{name}: now of type family {family}, profiled as numeric", feature=name,
                column=name, role=role, type_family=family)


def _unseen(out: Outcome, a: DriftAnalysis, p: DriftParams, span: str | None = None,
            skip: frozenset[str] = frozenset()) -> None:
    """Values never seen in the reference, above ``unseen_share``: their own finding
    (``span``: found in the early window only)."""
    for name, (share, top) in a.unseen.items():
        if name in skip:
            continue
        role = next((f.role for f in a.features if f.name == name), "feature")
        shown = ", ".join(f"{v!r} ({n})" for v, n in top)
        where = f"the last {span}'s" if span else "the window's"
        if span is None:
            out.metric("unseen_share", share, f"feature:{name}", f"role:{role}")
        extra = {"window": span} if span else {}
        out.add(Status.FAIL if role == "prediction" else Status.WARN, "UNSEEN_CATEGORY",
                f"{name}: {share:.1%} of {where} values were never seen in the "
                f"reference" + (f", e.g. {shown}" if shown else ""), feature=name,
                role=role, share=round(share, 6), values=[v for v, _ in top], **extra)


def _early(out: Outcome, whole: DriftAnalysis, soon: DriftAnalysis, p: DriftParams) -> None:
    """Features the whole window does not (yet) call drifted but its recent part does."""
    assert p.early_window is not None
    calm = {f.name for f in whole.features if not f.drifted}
    span = human(p.early_window)
    for f in soon.features:
        if f.name not in calm or not f.drifted:
            continue
        status = Status.FAIL if f.role == "prediction" else Status.WARN
        for reason, crossed in _reasons(f):
            out.add(status, reason, f"{f.name}: {_crossings(f, crossed)} in the last {span} "
                    f"({f.cur_rows} rows; not yet over the whole {human(p.window)})",
                    feature=f.name, role=f.role, window=span,
                    **{k: round(v, 6) for k, v in f.statistics.items()})
    _unseen(out, soon, p, span, frozenset(whole.unseen))


def _reasons(f: FeatureDrift) -> list[tuple[str, list[str]]]:
    """(reason code, the statistics it covers): the distribution's first crossed statistic
    names its reason, and a crossed missing-rate change always adds MISSING_RATE_CHANGED."""
    shape = [s for s in f.crossed if s != "missing_rate_change"]
    out = []
    if shape:
        side = "BELOW" if shape[0] in PVALUES else "ABOVE"
        code = ("PREDICTION_DRIFT" if f.role == "prediction"
                else f"{shape[0].upper()}_{side}_THRESHOLD")
        out.append((code, shape))
    if "missing_rate_change" in f.crossed:
        out.append(("MISSING_RATE_CHANGED", ["missing_rate_change"]))
    return out


def _crossings(f: FeatureDrift, only: list[str] | None = None) -> str:
    parts = []
    for statistic, limit in f.crossed.items():
        if only is not None and statistic not in only:
            continue
        op = "<" if statistic in PVALUES else "≥"
        parts.append(f"{statistic} {f.statistics[statistic]:.3g} {op} {limit:g}")
    return ", ".join(parts)


def _severity(f: FeatureDrift) -> tuple[int, float]:
    """Order drifted columns: predictions first, then by how far past their thresholds."""
    ratios = [f.statistics[s] / limit if s not in PVALUES else 1 + (limit - f.statistics[s])
              for s, limit in f.crossed.items() if limit]
    return (f.role == "prediction", max(ratios, default=0.0))


def _feature_of(a: DriftAnalysis, tags: tuple[str, ...]) -> FeatureDrift | None:
    names = {t.removeprefix("feature:") for t in tags if t.startswith("feature:")}
    return next((f for f in a.features if f.name in names), None)


def _judged_limit(f: FeatureDrift, measure: str, p: DriftParams) -> float | None:
    limits = p.thresholds.numeric if f.type == "numeric" else p.thresholds.categorical
    return limits.get(measure)


def _week_earlier(history: History, monitor_id: str, name: str, tags: tuple[str, ...],
                  now: datetime) -> float | None:
    """The stored value closest to a week before ``now`` (within 12 hours), or None."""
    target, slack = now - WEEK, timedelta(hours=12)
    points = history.metric_history(monitor_id, name, tags, since=target - slack)
    near = [(abs((ts - target).total_seconds()), v) for ts, v in points
            if ts <= target + slack]
    return min(near)[1] if near else None
