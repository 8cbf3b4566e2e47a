"""The backtest benchmark's data: a labelled prediction log in a DuckDB file, generated
inside DuckDB from ``hash`` (deterministic: the same rows every time, on every machine).

    main.predictions (prediction_id, predicted_at, model_version, score, y_hat)
    main.labels      (prediction_id, label, y, observed_at)

``rows`` predictions over the 7 days from 2026-03-01 (the 7 daily windows the check reads
as of ``NOW``), three model versions in turn (``v1``, ``v2``, ``v3``, each more skilled
than the last). Classification: ``score`` is a probability, ``label`` 0/1. Regression:
``y_hat`` predicts ``y`` (about 100 ± 15, never 0, so that MAPE is defined everywhere).
90 % of the predictions have a label, observed two days later. Also: the label-joined rows
per version and window, as the peers read them (their frames), and the floor queries of
the check (``FLOOR``).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

#: the check runs as of this instant: window 1d, feedback_delay 2d, 7 windows → Mar 1-7
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
DAYS = 7
VERSIONS = ("v1", "v2", "v3")
LABELLED = 0.9


def _uniform(i: str, salt: int) -> str:
    """SQL for a uniform in (0, 1) from row ``i`` and a salt (DuckDB's 64-bit hash)."""
    return f"((hash({i} * 16 + {salt}) >> 11)::DOUBLE + 0.5) / 9007199254740992.0"


def _normal(i: str, salt: int) -> str:
    """SQL for a standard normal (Box-Muller on two uniforms)."""
    return (f"(sqrt(-2 * ln({_uniform(i, salt)})) * "
            f"cos(2 * pi() * {_uniform(i, salt + 1)}))")


def build(path: str, rows: int) -> None:
    """Write the file (replacing tables of the same names)."""
    import duckdb

    with duckdb.connect(path) as con:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE base AS
            SELECT i, {_normal('i', 1)} AS signal, {_normal('i', 3)} AS noise,
                   {_normal('i', 5)} AS err, {_uniform('i', 7)} AS u_label,
                   {_uniform('i', 8)} AS u_has
            FROM range({rows}) t(i)""")
        con.execute(f"""
            CREATE OR REPLACE TABLE predictions AS
            SELECT i AS prediction_id,
                   TIMESTAMP '2026-03-01' + to_microseconds((i * {DAYS} * 86400000000)
                                                            // {rows}) AS predicted_at,
                   'v' || (1 + i % 3)::VARCHAR AS model_version,
                   1 / (1 + exp(-((1 + 0.5 * (i % 3)) * signal + noise))) AS score,
                   100 + 15 * signal + (8 - 2 * (i % 3)) * err + (i % 3 - 1) AS y_hat
            FROM base ORDER BY i""")
        con.execute(f"""
            CREATE OR REPLACE TABLE labels AS
            SELECT i AS prediction_id,
                   (u_label < 1 / (1 + exp(-3 * signal)))::INTEGER AS label,
                   100 + 15 * signal AS y,
                   TIMESTAMP '2026-03-03' + to_microseconds((i * {DAYS} * 86400000000)
                                                            // {rows}) AS observed_at
            FROM base WHERE u_has < {LABELLED} ORDER BY i""")
        con.execute("DROP TABLE base")
        con.execute("CHECKPOINT")


def joined_sql() -> str:
    """The labelled predictions with their window (0-6) and version: the peers' input."""
    return """
        SELECT p.model_version, p.predicted_at,
               datediff('day', TIMESTAMP '2026-03-01', p.predicted_at) AS day,
               p.score, (p.score >= 0.5)::INTEGER AS y_pred, l.label, p.y_hat, l.y
        FROM predictions p JOIN labels l USING (prediction_id)"""


def _window() -> str:
    return ("CAST(floor((epoch(p.predicted_at) - epoch(TIMESTAMP '2026-03-01')) / 86400) "
            "AS BIGINT)")


_JOIN = """FROM predictions p LEFT JOIN labels l USING (prediction_id)
        WHERE p.predicted_at >= TIMESTAMP '2026-03-01'
          AND p.predicted_at < TIMESTAMP '2026-03-10'"""

#: The floor of the check, per task: one hand-written DuckDB query doing the join and the
#: GROUP BY the check cannot do without (``wd_run.py --floor``). Classification: per window,
#: version and score bucket the counts bucketed AUROC and CBPE need (rows, labelled,
#: positives, sum of scores), nothing else; regression: per window and version its sums.
#: ``join`` is the join alone (two counts), what any tool reading labelled predictions pays.
FLOOR = {
    "classification": f"""
        SELECT {_window()} AS w, p.model_version AS v, CAST(round(p.score * 10000) AS BIGINT) AS b,
               count(*) AS n, count(l.label) AS labelled, count_if(l.label = 1) AS positives,
               sum(p.score) AS score_sum
        {_JOIN}
        GROUP BY ALL""",
    "regression": f"""
        SELECT {_window()} AS w, p.model_version AS v, count(*) AS n, count(l.y) AS labelled,
               sum(p.y_hat - l.y) AS e, sum(abs(p.y_hat - l.y)) AS ae,
               sum((p.y_hat - l.y) ^ 2) AS se, sum((p.y_hat - l.y) ^ 4) AS qe,
               sum(l.y) AS y1, sum(l.y * l.y) AS y2, sum(abs(p.y_hat - l.y) / abs(l.y)) AS ape,
               sum((abs(p.y_hat - l.y) / abs(l.y)) ^ 2) AS ape2, count_if(l.y <> 0) AS nz,
               sum(epoch(l.observed_at) - epoch(p.predicted_at)) AS delay_sum,
               max(epoch(l.observed_at) - epoch(p.predicted_at)) AS delay_max
        {_JOIN}
        GROUP BY ALL""",
    "join": f"SELECT count(*), count(l.label) {_JOIN}",
}


def status_kb(field: str) -> int:
    """A field of /proc/self/status in kB (``VmHWM``: the process's peak RSS so far)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def load_frame(path: str) -> tuple[Any, dict[str, float]]:
    """A peer's labelled rows read into one pandas frame (what its user must also do, timed
    apart from its step), with the RSS before and after: ``(frame, loaded)``."""
    import duckdb

    start_kb = status_kb("VmRSS")
    t_load = time.perf_counter()
    with duckdb.connect(path, read_only=True) as con:
        frame = con.sql(joined_sql()).df()
    return frame, {"load_seconds": round(time.perf_counter() - t_load, 3),
                   "start_mb": round(start_kb / 1024, 1),
                   "loaded_mb": round(status_kb("VmRSS") / 1024, 1)}


def report(tool: str, task: str, rows: int, seconds: float, loaded: dict[str, float],
           metrics: dict[str, dict[str, float]]) -> None:
    """A peer run's one JSON line, as ``compare.py`` reads it."""
    print(json.dumps({"tool": tool, "task": task, "rows": rows, "seconds": round(seconds, 3),
                      "load_seconds": loaded["load_seconds"],
                      "peak_mb": round(status_kb("VmHWM") / 1024, 1),
                      "start_mb": loaded["start_mb"], "loaded_mb": loaded["loaded_mb"],
                      "metrics": metrics}))
