"""The embedded demo warehouse: a DuckDB file with realistic data behind a churn model.

Tables (schema ``main``):
- ``training_reference``: the model's training set (features + label).
- ``features``: the online feature table, one row per customer per day, refreshed hourly.
- ``predictions``: the prediction log (model, version, status, score, time), six weeks of
  hourly traffic with a daily cycle and quieter weekends.
- ``ground_truth``: churn labels joined back to predictions two days later.

Planted incidents: the label job stopped three days ago, so ``ground_truth`` is stale; and
today's refunds were booked as negative ``features.monthly_spend`` (contract violation).
Planted drift: ``features.support_tickets`` doubled three days ago (against
``training_reference``) and ``predictions.score`` rose two days ago.
Planted schema change (applied by ``watchdog demo`` after the schema monitor's first
snapshot, see :func:`apply_planted_changes`): the label job's new release renamed
``ground_truth.churned`` to ``is_churned``, narrowed ``customer_id`` to INTEGER and added
``label_source``, breaking ``retention_uplift``, which reads the labels.
Planted failed pipeline run: the dbt artifacts beside the warehouse (``dbt_target/``, see
:func:`write_dbt_artifacts`) say that model ``ground_truth``, which writes the stale labels,
failed at its last run; the stale-labels event names that run.
Planted volume drop: in the last three hours 70 % of predictions failed, so successful
predictions fell to about 30 % of the same hours in earlier weeks.
Planted quality drop: the labels follow the scores (a churn with probability the score:
calibrated) until seven days ago; since then they no longer do (v4 lost its signal), which
the backtest catches on the newest day that has labels (AUROC near 0.5, from about 0.75).
The labelled days after the drop span 48 hours, so whatever the hour, a whole calendar day
of them (~2,500 labels) is there to judge: a day cut short by the clock holds too few
labels for a confident verdict (the config asks for 1,500).

Deterministic (hash-based randomness) and idempotent: it is rebuilt only when the data
would otherwise be out of date (its anchor is the current hour) or the layout changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

VERSION = 7
WEEKS = 6
CUSTOMERS = 2000


@dataclass(frozen=True, slots=True)
class DemoInfo:
    path: str
    anchor: datetime
    built: bool  # False when the existing file was already current
    rows: dict[str, int]


def _anchor(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)


# u(i, salt): a deterministic uniform in (0, 1); z(i, salt): a standard normal (Box-Muller).
_MACROS = """
CREATE OR REPLACE TEMP MACRO u(i, salt) AS ((hash(i, salt) % 1000003) + 1) / 1000004.0;
CREATE OR REPLACE TEMP MACRO z(i, salt) AS
    sqrt(-2 * ln(u(i, salt || 'a'))) * cos(2 * pi() * u(i, salt || 'b'));
"""

_TRAINING = """
CREATE OR REPLACE TABLE training_reference AS
SELECT i AS customer_id,
       CAST(greatest(1, 400 + 300 * z(i, 'tenure')) AS INTEGER) AS tenure_days,
       round(greatest(5, 60 + 25 * z(i, 'spend')), 2) AS monthly_spend,
       CAST(floor(-ln(u(i, 'tickets')) * 1.5) AS INTEGER) AS support_tickets,
       CASE WHEN u(i, 'plan') < 0.5 THEN 'basic' WHEN u(i, 'plan') < 0.85 THEN 'plus'
            ELSE 'pro' END AS plan,
       ['eu', 'us', 'apac'][1 + CAST(floor(u(i, 'region') * 3) AS INTEGER)] AS region,
       u(i, 'label') < 0.18 AS churned
FROM range(20000) t(i)
"""

_FEATURES = """
CREATE OR REPLACE TABLE features AS
SELECT c AS customer_id,
       CAST($anchor AS DATE) - CAST(d AS INTEGER) AS feature_date,
       $anchor - INTERVAL (d * 24) HOUR
           - INTERVAL (CAST(u(c * 100 + d, 'ts') * 50 AS INTEGER)) MINUTE
           AS updated_at,
       greatest(1, CAST(400 + 300 * z(c, 'tenure') AS INTEGER) + 14 - d) AS tenure_days,
       -- planted contract violation: today's refunds booked as negative spend (a few rows)
       round(greatest(5, 60 + 25 * z(c * 100 + d, 'spend')), 2)
           * CASE WHEN d = 0 AND u(c, 'refund') < 0.004 THEN -1 ELSE 1 END AS monthly_spend,
       -- planted drift: support tickets doubled three days ago
       CAST(floor(-ln(u(c * 100 + d, 'tickets')) * CASE WHEN d < 3 THEN 3.0 ELSE 1.5 END)
           AS INTEGER) AS support_tickets,
       CASE WHEN u(c, 'plan') < 0.5 THEN 'basic' WHEN u(c, 'plan') < 0.85 THEN 'plus'
            ELSE 'pro' END AS plan,
       ['eu', 'us', 'apac'][1 + CAST(floor(u(c, 'region') * 3) AS INTEGER)] AS region
FROM range($customers) a(c), range(14) b(d)
"""

# Hourly traffic: a daily cycle peaking mid-afternoon UTC, weekends at 60 %.
_PREDICTIONS = """
CREATE OR REPLACE TABLE predictions AS
WITH hours AS (
    SELECT h, $anchor - INTERVAL (h) HOUR AS hour_start
    FROM range(1, $hours + 1) t(h)
), counts AS (
    SELECT h, hour_start,
           CAST(round(120 * (1 + 0.5 * sin(2 * pi() * (hour(hour_start) - 9) / 24))
                * CASE WHEN dayofweek(hour_start) IN (0, 6) THEN 0.6 ELSE 1.0 END
                * (1 + 0.1 * z(h, 'noise'))) AS INTEGER) AS n
    FROM hours
), rows AS (SELECT h, hour_start, unnest(range(greatest(n, 0))) AS j FROM counts)
SELECT h * 1000 + j AS prediction_id,
       'churn_model' AS model,
       CASE WHEN h > 24 * 10 THEN 'v3' ELSE 'v4' END AS model_version,
       CAST(floor(u(h * 1000 + j, 'cust') * $customers) AS BIGINT) AS customer_id,
       -- planted volume drop: the last three hours, 70 % of predictions fail
       CASE WHEN u(h * 1000 + j, 'status') < CASE WHEN h <= 3 THEN 0.7 ELSE 0.02 END
            THEN 'error' ELSE 'success' END AS status,
       -- planted prediction drift: scores rose two days ago
       round(1 / (1 + exp(-(z(h * 1000 + j, 'score') - 1.5
                            + CASE WHEN h <= 48 THEN 0.8 ELSE 0 END))), 4) AS score,
       hour_start + INTERVAL (CAST(u(h * 1000 + j, 'sec') * 3599 AS INTEGER)) SECOND
           AS predicted_at
FROM rows
"""

# Labels arrive two days after the prediction; the label job stopped three days ago.
# Churn follows the score (calibrated) until the planted quality drop seven days ago, after
# which it follows another draw of the same distribution (the score lost its signal).
_GROUND_TRUTH = """
CREATE OR REPLACE TABLE ground_truth AS
SELECT prediction_id, customer_id,
       u(prediction_id, 'truth') < CASE
           WHEN predicted_at >= $anchor - INTERVAL 7 DAY
           THEN 1 / (1 + exp(-(z(prediction_id, 'drop') - 1.5)))
           ELSE score END AS churned,
       predicted_at + INTERVAL 2 DAY AS observed_at
FROM predictions
WHERE status = 'success' AND predicted_at + INTERVAL 2 DAY < $anchor - INTERVAL 3 DAY
"""


def build(path: str | Path, now: datetime | None = None, *, force: bool = False) -> DemoInfo:
    """Create or refresh the demo warehouse at ``path``; a no-op when it is already current."""
    anchor = _anchor(now or datetime.now(UTC))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_dbt_artifacts(Path(path).parent / "dbt_target", Path(path).stem, anchor)
    with duckdb.connect(str(path)) as con:
        if not force and _is_current(con, anchor):
            return DemoInfo(str(path), anchor.replace(tzinfo=UTC), False, _counts(con))
        con.execute(_MACROS)
        params = {"anchor": anchor, "customers": CUSTOMERS, "hours": WEEKS * 7 * 24}
        con.execute(_TRAINING)
        for sql in (_FEATURES, _PREDICTIONS, _GROUND_TRUTH):
            con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
        con.execute("CREATE OR REPLACE TABLE _watchdog_demo AS SELECT ? AS version, ? AS anchor",
                    [VERSION, anchor])
        return DemoInfo(str(path), anchor.replace(tzinfo=UTC), True, _counts(con))


_PLANTED_SCHEMA_CHANGE = (
    "ALTER TABLE ground_truth RENAME COLUMN churned TO is_churned",
    "ALTER TABLE ground_truth ALTER COLUMN customer_id TYPE INTEGER",
    "ALTER TABLE ground_truth ADD COLUMN label_source VARCHAR",
)


def apply_planted_changes(path: str | Path) -> bool:
    """Apply the planted upstream schema change to ``ground_truth``; False if already done."""
    with duckdb.connect(str(path)) as con:
        names = {row[0] for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = 'ground_truth'").fetchall()}
        if "churned" not in names:
            return False
        for sql in _PLANTED_SCHEMA_CHANGE:
            con.execute(sql)
    return True


def _is_current(con: duckdb.DuckDBPyConnection, anchor: datetime) -> bool:
    try:
        row = con.execute("SELECT version, anchor FROM _watchdog_demo").fetchone()
    except duckdb.CatalogException:
        return False
    return row is not None and row[0] == VERSION and row[1] == anchor


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = ["training_reference", "features", "predictions", "ground_truth"]
    out = {}
    for name in names:
        row = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
        out[name] = int(row[0]) if row else 0
    return out




#: The dbt version whose artifacts the demo's imitate (run-results v6, manifest v12): the
#: version tests/pipelines/test_dbt.py runs, which checks that they have the same shape.
DBT_VERSION = "1.11.16"
RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"
MANIFEST_SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"
#: The demo's dbt models: name → (status, message); the label model failed at its last run.
_DBT_MODELS = {
    "features": ("success", "OK"),
    "ground_truth": ("error", "Runtime Error in model ground_truth "
                              "(models/labels/ground_truth.sql)\n  Catalog Error: Table with "
                              "name label_events does not exist!"),
}


def write_dbt_artifacts(folder: str | Path, database: str, anchor: datetime, *,
                        schema: str = "main", adapter: str = "duckdb",
                        models: Mapping[str, tuple[str, str]] | None = None,
                        start: datetime | None = None) -> Path:
    """dbt's ``run_results.json`` and ``manifest.json`` of the demo's last dbt invocation,
    shaped as dbt writes them (no dbt needed): two hours before ``anchor``, ``features``
    built and ``ground_truth``, the model that writes the stale labels, failed. ``models``
    (name -> status, message) and ``start`` (aware UTC) stage another invocation, into
    tables of ``schema``; ``watchdog demo --postgres`` stages its own."""
    import hashlib
    import json
    from datetime import timedelta

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    if start is None:
        start = anchor.replace(tzinfo=UTC) - timedelta(hours=2)
    models = _DBT_MODELS if models is None else models
    invocation = hashlib.sha1(start.isoformat().encode()).hexdigest()
    invocation = f"{invocation[:8]}-{invocation[8:12]}-{invocation[12:16]}-" \
                 f"{invocation[16:20]}-{invocation[20:32]}"

    def at(seconds: float) -> str:
        return (start + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    meta = {"dbt_version": DBT_VERSION, "generated_at": at(95), "invocation_id": invocation,
            "invocation_started_at": at(0), "env": {}}
    results = [_dbt_result(name, status, message, database, schema, at(10 + 40 * i),
                           at(50 + 40 * i))
               for i, (name, (status, message)) in enumerate(models.items())]
    run_results = {"metadata": {"dbt_schema_version": RUN_RESULTS_SCHEMA, **meta},
                   "results": results, "elapsed_time": 95.0,
                   "args": {"which": "run", "invocation_command": "dbt run"}}
    manifest = {
        "metadata": {"dbt_schema_version": MANIFEST_SCHEMA, **meta, "generated_at": at(5),
                     "project_name": "churn_pipeline", "adapter_type": adapter},
        "nodes": {f"model.churn_pipeline.{name}": _dbt_node(name, database, schema)
                  for name in models},
        **{key: {} for key in ("sources", "macros", "docs", "exposures", "metrics", "groups",
                               "selectors", "disabled", "parent_map", "child_map",
                               "group_map", "saved_queries", "semantic_models",
                               "unit_tests", "functions")},
    }
    (out / "run_results.json").write_text(json.dumps(run_results, indent=2))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


def _dbt_result(name: str, status: str, message: str, database: str, schema: str,
                started: str, ended: str) -> dict[str, object]:
    return {
        "status": status,
        "timing": [{"name": "compile", "started_at": started, "completed_at": started},
                   {"name": "execute", "started_at": started, "completed_at": ended}],
        "thread_id": "Thread-1 (worker)", "execution_time": 40.0,
        "adapter_response": {"_message": "OK"} if status == "success" else {},
        "message": message, "failures": None, "unique_id": f"model.churn_pipeline.{name}",
        "compiled": True, "compiled_code": f"select * from {schema}.{name}_staging",
        "relation_name": f'"{database}"."{schema}"."{name}"', "batch_results": None,
    }


def _dbt_node(name: str, database: str, schema: str) -> dict[str, object]:
    return {
        "database": database, "schema": schema, "name": name, "resource_type": "model",
        "package_name": "churn_pipeline", "path": f"{name}.sql",
        "original_file_path": f"models/{name}.sql",
        "unique_id": f"model.churn_pipeline.{name}", "fqn": ["churn_pipeline", name],
        "alias": name, "config": {"enabled": True, "materialized": "table"},
        "relation_name": f'"{database}"."{schema}"."{name}"',
        "depends_on": {"macros": [], "nodes": []}, "language": "sql",
    }
