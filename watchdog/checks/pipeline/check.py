"""``kind: pipeline``: the runs of the jobs that write a table, read from Airflow or dbt.

The newest finished run of a writer that failed is a FAIL (RUN_FAILED), as is a writer with
no finished run for longer than its usual gap between runs plus ``grace`` (RUN_LATE). Each
job is its own alert (group ``job``), for the owners of the models that read the table, and
it recovers with the next good run. The latest run of each writer is kept in the state
store, where the events of the table's other monitors find it.
"""

from __future__ import annotations

from pathlib import Path

from watchdog.checks.base import Check, CheckContext, Outcome, human
from watchdog.checks.pipeline import timing
from watchdog.checks.pipeline.params import PipelineParams
from watchdog.errors import PipelineError
from watchdog.models import (
    WRITER_RUNS,
    CheckResult,
    PipelineRun,
    Status,
    same_table,
    writer_runs_key,
)
from watchdog.pipelines import PipelineReader, open_reader

#: The state-store document of a job's finish times (key: monitor, source, job).
FINISHES = "pipeline.finishes"


class PipelineCheck(Check[PipelineParams]):
    """FAIL when a job that writes the table failed its last run, or is late."""

    KIND = "pipeline"
    Params = PipelineParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        table = str(ctx.warehouse.table(p.table))
        out = self.outcome(table)
        base = Path(ctx.config.source).parent
        latest: list[PipelineRun] = []
        for name, source in ctx.config.pipelines.sources.items():
            declared = [w.job for w in ctx.config.pipelines.writes
                        if w.source == name and w.warehouse in (None, p.warehouse)
                        and any(same_table(t, p.table) for t in w.tables)]
            recorded = source.RECORDS_WRITES and getattr(source, "warehouse", None) in (
                None, p.warehouse)
            if not declared and not recorded:
                continue
            with open_reader(name, source, base) as reader:
                for job in self._jobs(reader, declared, recorded):
                    latest += self._judge(ctx, out, table, reader, job)
        if not out.findings:
            raise PipelineError(
                f"{ctx.config.source}: pipelines.writes: no job writes table {p.table!r}",
                hint=f"add {{source: <name>, job: <dag_id>/<task_id>, tables: [{p.table}]}}, "
                     "or a dbt source whose manifest has the model")
        self._keep_latest(ctx, table, latest)
        return out.result(f"{table}: the writers' last runs succeeded on time")

    def _jobs(self, reader: PipelineReader, declared: list[str], recorded: bool) -> list[str]:
        found = [job for job, tables in (reader.writes() if recorded else {}).items()
                 if any(same_table(t, self.monitor.table) for t in tables)]
        return list(dict.fromkeys([*declared, *found]))

    def _judge(self, ctx: CheckContext, out: Outcome, table: str, reader: PipelineReader,
               job: str) -> list[PipelineRun]:
        """One job: its newest finished run, lateness and metrics; its run to keep."""
        runs = reader.runs(job)
        group = (("job", job),)
        if not runs:
            out.add_for(group, Status.WARN, "RUNS_NOT_FOUND",
                        f"{table}: no run of {job} found in pipelines.sources.{reader.name}")
            return []
        done = next((r for r in runs if r.done), None)
        tags = _tags(runs[0])
        if done is not None:
            out.metric("run.failed", float(done.failed), *tags)
            if done.duration_s is not None:
                out.metric("run.duration_seconds", round(done.duration_s, 3), *tags)
            if done.failed:
                out.add_for(group, Status.FAIL, "RUN_FAILED", f"{table}: {done.text()}",
                            run_id=done.run_id)
        self._judge_lateness(ctx, out, table, reader.name, job, runs, tags)
        if not any(f.group == group and f.status.is_problem for f in out.findings):
            out.add_for(group, Status.OK, "RUN_OK", (done or runs[0]).text())
        return [done or runs[0]]

    def _judge_lateness(self, ctx: CheckContext, out: Outcome, table: str, source: str,
                        job: str, runs: list[PipelineRun], tags: tuple[str, ...]) -> None:
        p = self.monitor
        key = f"{p.id}:{source}:{job}"
        stored = ctx.history.get_artifact(FINISHES, key) if ctx.history else None
        before = dict(stored[2].get("finishes", {})) if stored else {}
        by_run = timing.merged(before, {r.run_id: r.finished_at for r in runs
                                        if r.done and r.finished_at is not None})
        now_kept = {run: at.isoformat() for run, at in by_run.items()}
        if ctx.history is not None and now_kept != before:
            ctx.history.put_artifact(FINISHES, key, {"finishes": now_kept})
        finishes = list(by_run.values())
        gap = p.every or timing.usual_gap(finishes, p.min_history)
        if gap is None or not finishes:
            return
        late = timing.lateness(finishes[-1], gap, ctx.now)
        out.metric("run.lateness_seconds", max(0.0, late.total_seconds()), *tags)
        if late > p.grace:
            out.add_for((("job", job),), Status.FAIL, "RUN_LATE",
                        f"{table}: {runs[0].label} is {human(late)} late: last finished "
                        f"{finishes[-1]:%Y-%m-%d %H:%M} UTC, usually every {human(gap)}",
                        lateness_seconds=round(late.total_seconds()))

    def _keep_latest(self, ctx: CheckContext, table: str, latest: list[PipelineRun]) -> None:
        """The writers' latest runs, for the events of the table's other monitors."""
        if ctx.history is None:
            return
        key = writer_runs_key(self.monitor.warehouse, table)
        payload = {"runs": [r.to_json() for r in sorted(latest, key=lambda r: not r.failed)]}
        stored = ctx.history.get_artifact(WRITER_RUNS, key)
        if stored is None or stored[2] != payload:
            ctx.history.put_artifact(WRITER_RUNS, key, payload)


def _tags(run: PipelineRun) -> tuple[str, ...]:
    return (f"job:{run.job}", *((f"task:{run.task}",) if run.task else ()))
