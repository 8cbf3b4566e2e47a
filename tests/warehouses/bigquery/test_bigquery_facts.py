"""Every BigQuery fact through the real client against the loopback stand-in.

The stand-in cannot execute SQL: it answers the golden SQL of each query with recorded rows,
so these tests show that the SQL sent is the golden SQL, that it is sent the way the cost
guard requires, and that the rows are parsed into the right facts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.warehouses.bigquery.conftest import RECORDINGS
from tests.warehouses.bigquery.fake_server import FakeBigQuery
from tests.warehouses.test_golden import ARGS
from watchdog.models import CategoryCounts, Column, Histogram, RuleCounts, TableRef
from watchdog.warehouses import Warehouse, get_class

T0 = datetime(2026, 3, 1, tzinfo=UTC)
EVENTS = TableRef(schema="analytics", name="events")


def test_every_query_has_a_golden_file_and_a_recording() -> None:
    queries = set(get_class("bigquery").queries())  # type: ignore[attr-defined]
    assert {p.stem for p in RECORDINGS.glob("*.json")} == queries
    golden = Path(RECORDINGS.parent.parent / "golden" / "bigquery")
    assert {p.stem for p in golden.glob("*.sql")} == queries


def test_columns_include_nested_fields_and_bigquery_types(bq: Warehouse) -> None:
    found = bq.columns(**ARGS["columns"])
    events = found[EVENTS]
    assert [c.name for c in events] == [
        "id", "ts", "score", "ctx", "ctx.device", "ctx.version", "tags", "amount"]
    assert [c.position for c in events] == list(range(1, 9))
    families = {c.name: c.type_family for c in events}
    assert families == {"id": "integer", "ts": "timestamptz", "score": "float", "ctx": "other",
                        "ctx.device": "string", "ctx.version": "integer", "tags": "other",
                        "amount": "decimal"}
    assert events[0] == Column(name="id", position=1, data_type="INT64",
                               type_family="integer", nullable=False)
    users = found[TableRef(schema="analytics", name="Users")]
    assert [(c.name, c.type_family) for c in users] == [
        ("user_id", "string"), ("signup", "timestamp")]


def test_columns_of_many_tables_in_one_query(bq: Warehouse) -> None:
    """The conformance suite's one-statement rule, counted in the executor (the stand-in
    cannot be seeded, so BigQuery is not in that suite)."""
    sent: list[str] = []
    stop = bq.executor.listen(lambda stmt: sent.append(stmt.name))  # type: ignore[attr-defined]
    bq.columns(**ARGS["columns"])
    stop()
    assert sent == ["columns"]


def test_schema_columns_and_fingerprints_by_pattern(bq: Warehouse) -> None:
    cols = bq.schema_columns(**ARGS["schema_columns"])
    feat = TableRef(schema="analytics", name="feat_users")
    assert set(cols) == {EVENTS, feat}
    assert [c.name for c in cols[feat]] == ["user_id", "f", "f.a"]
    prints = bq.schema_fingerprints(**ARGS["schema_fingerprints"])
    assert prints == {EVENTS: "0cc175b9c0f1b6a831c399e269772661",
                      feat: "92eb5ffee6ae2fec3ad71c777531578f"}  # no columns: no fingerprint


def test_schema_version_is_the_probe_token(bq: Warehouse) -> None:
    assert bq.schema_version() == "4a8a08f09d37b73795649038408b5f33"


def test_audit_events_from_jobs(bq: Warehouse) -> None:
    events = bq.audit_events(**ARGS["audit_events"])
    assert [(e.user, e.command, e.objects) for e in events] == [
        ("alice@example.com", "ALTER_TABLE", ("analytics.events",)),
        ("etl@proj.iam.gserviceaccount.com", "DROP_TABLE", ("analytics.tmp",)),
        ("unknown", "CREATE_VIEW", ()),
    ]
    assert events[0].at == T0 + timedelta(minutes=1)
    assert events[0].seq == int((T0 + timedelta(minutes=1)).timestamp() * 1_000_000)
    assert events[0].statement.startswith("ALTER TABLE analytics.events")


def test_count_rows_fills_every_bucket(bq: Warehouse) -> None:
    counts = bq.count_rows(**ARGS["count_rows"])
    assert len(counts) == 24 and counts[0].start == T0
    assert {i: b.rows for i, b in enumerate(counts) if b.rows} == {0: 12, 3: 5, 23: 1}


def test_newest_sample_histogram(bq: Warehouse) -> None:
    assert bq.newest(**ARGS["newest"]) == T0 + timedelta(hours=5, milliseconds=250)
    assert bq.sample(**ARGS["sample"]) == [{"id": 7, "score": 0.25}, {"id": 9, "score": 0.75}]
    assert bq.histogram(**ARGS["histogram"]) == Histogram(
        edges=(0.0, 0.25, 0.5, 1.0), counts=(10, 0, 4), below=1, above=2, missing=3)


def test_distribution_facts(bq: Warehouse) -> None:
    hists = bq.histograms(**ARGS["histograms"])
    assert hists["score"] == Histogram(edges=(0.0, 0.5, 1.0), counts=(38, 50), below=2,
                                       above=5, missing=5)
    assert hists["age"] == Histogram(edges=(18.0, 65.0), counts=(70,), below=10, above=17,
                                     missing=3)
    top = ARGS["top_values"]
    assert bq.category_counts(top["table"], top["column"], limit=top["limit"],
                              where=top["where"]) == CategoryCounts(
        counts=(("pro", 60), ("basic", 30)), other=6, missing=4)
    assert bq.value_counts(**ARGS["value_counts"]) == {  # both columns from one statement
        "plan": CategoryCounts(counts=(("basic", 30), ("pro", 60)), other=6, missing=4),
        "status": CategoryCounts(counts=(("ok", 85),), other=15, missing=0)}
    assert bq.abs_means(**ARGS["abs_means"]) == {"shap_age": 0.125, "shap_plan": None}


def test_contract_facts(bq: Warehouse) -> None:
    assert bq.contract_failures(**ARGS["contract_failures"]) == RuleCounts(
        rows=1000, failures=(3, 7, 0, 2, 1, 0))
    assert bq.failure_examples(**ARGS["failure_examples"]) == [
        [], ["1.5", "-0.25"], [], [""], ["42"], []]


def test_count_successes_per_group_and_window(bq: Warehouse) -> None:
    args = {k: v for k, v in ARGS["count_successes"].items() if k != "time_type"}  # render-only
    counts = bq.count_successes(**args)
    assert len(counts) == 3 * 24  # every group has every window
    got = {(c.group, int((c.start - T0) / timedelta(hours=1))): (c.total, c.successes)
           for c in counts if c.total}
    assert got == {(("churn", "v1"), 0): (10, 9), (("churn", "v2"), 2): (4, 0),
                   (("upsell", "v1"), 1): (3, 3)}
    first = next(c for c in counts if c.group == ("churn", "v1"))
    assert first.last_success == T0 + timedelta(minutes=10)


def test_ping(bq: Warehouse, fake: tuple[FakeBigQuery, str]) -> None:
    bq.ping()
    assert [r.body.get("query") for r in fake[0].queries()][-1] == "SELECT 1"


def test_ks_counts(bq: Warehouse) -> None:
    got = bq.ks_counts(**ARGS["ks_counts"])  # type: ignore[attr-defined]
    score, age = got["score"], got["age"]
    assert len(score.counts) == 20001 and len(age.counts) == 101
    assert {i: int(n) for i, n in enumerate(score.counts) if n} == {9999: 3, 10000: 7}
    assert {i: int(n) for i, n in enumerate(age.counts) if n} == {50: 5, 100: 1}  # clipped
    assert (score.missing, age.missing) == (2, 0)  # bucket -1: NULL and NaN
    assert (score.sum, score.sum_sq) == (-0.25, 0.375)  # the missing bucket's sums left out
    assert (age.sum, age.sum_sq) == (72.5, 4910.0)


def test_extremes(bq: Warehouse) -> None:
    got = bq.extremes(**ARGS["extremes"])
    assert got == {"score": (0.125, 0.875), "age": None}
