"""Time columns of type DATETIME and DATE on BigQuery: each time value is bound as the type of
the column it is compared with (read once from tables.get), so the column is never wrapped in
a function and partitions still prune.

The stand-in's tables.get serves ``analytics.predictions(ts DATETIME)``,
``analytics.daily(day DATE)`` and ``analytics.events(ts TIMESTAMP)`` (see ``conftest.TABLES``),
and every recording states the parameters (type and wire value) it expects.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.warehouses.bigquery.fake_server import normalise
from tests.warehouses.bigquery.helpers import (
    Fake,
    record,
    runner_for,
    sent,
    sent_params,
    setup,
)
from tests.warehouses.test_golden import ARGS
from watchdog.checks.future import FAR
from watchdog.errors import QueryError, TableNotFound
from watchdog.models import Predicate, Rule, Status, TableRef
from watchdog.warehouses import Warehouse
from watchdog.warehouses.bigquery_sql import TimeBind, bound_time

HOUR = timedelta(hours=1)
EVENTS = TableRef(schema="analytics", name="events")
PREDICTIONS = TableRef(schema="analytics", name="predictions")
DAILY = TableRef(schema="analytics", name="daily")
COUNT_SCHEMA = [["bucket_index", "FLOAT"], ["row_count", "INTEGER"]]


def by_name(params: list[dict[str, Any]]) -> dict[str, tuple[str, Any]]:
    """Sent ``queryParameters`` as ``{name: (type, value)}``."""
    return {p["name"]: (p["parameterType"]["type"], p["parameterValue"]["value"])
            for p in params}


# -- freshness and volume through the runner ------------------------------------------------

#: 08:00 at UTC+2 is 06:00 UTC: DATETIME values must be the UTC wall clock, not the local one.
FRESH_NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))
FRESHNESS = """\
- {id: fresh, kind: freshness, warehouse: bq, table: analytics.predictions, time_column: ts,
   max_age: 2h, window: 1h, min_rows: 10,
   where: [{column: ts, op: ">=", value: 2026-02-28T23:30:00-05:00}]}
- {id: stale, kind: freshness, warehouse: bq, table: analytics.predictions, time_column: ts,
   max_age: 30m, where: [{column: ts, op: ">=", value: 2026-02-28T23:30:00-05:00}]}
"""


def test_freshness_on_a_datetime_column_binds_the_utc_wall_clock(fake: Fake,
                                                                  tmp_path: Path) -> None:
    wh, config = setup(fake, tmp_path, FRESHNESS)
    since = [Predicate(column="ts", op=">=", value=datetime(2026, 3, 1, 4, 30, tzinfo=UTC))]
    horizon = datetime(2026, 3, 1, 6, 5, tzinfo=UTC)  # now + future_tolerance (5m)
    bounded = [*since, Predicate(column="ts", op="<=", value=horizon)]
    newest = wh.render("newest", table=PREDICTIONS, time_column="ts", where=bounded).sql
    start = datetime(2026, 3, 1, 5, tzinfo=UTC)
    counts = wh.render("count_rows", table=PREDICTIONS, time_column="ts", start=start,
                       end=start + HOUR, bucket=HOUR, where=since).sql
    ahead = wh.render("count_rows", table=PREDICTIONS, time_column="ts", start=horizon,
                      end=horizon + FAR, bucket=FAR, where=since).sql
    wall = {"w0": ["DATETIME", "2026-03-01T04:30:00.000000"]}  # 23:30 at UTC-5
    # the newest row, a DATETIME, is read as UTC: 05:00, one hour before now, and no row
    # dated after now + 5m is read as the newest
    record(fake[0], newest, [["newest", "DATETIME"]], [["2026-03-01T05:00:00"]],
           {**wall, "w1": ["DATETIME", "2026-03-01T06:05:00.000000"]})
    record(fake[0], counts, COUNT_SCHEMA, [[0, 12]], {
        **wall, "start": ["DATETIME", "2026-03-01T05:00:00.000000"],
        "end": ["DATETIME", "2026-03-01T06:00:00.000000"],
        "start_epoch": ["FLOAT64", 1772341200.0], "end_epoch": ["FLOAT64", 1772344800.0],
        "bucket_seconds": ["FLOAT64", 3600.0]})
    far = horizon + FAR
    record(fake[0], ahead, COUNT_SCHEMA, [], {
        **wall, "start": ["DATETIME", "2026-03-01T06:05:00.000000"],
        "end": ["DATETIME", far.strftime("%Y-%m-%dT%H:%M:%S.000000")],
        "start_epoch": ["FLOAT64", horizon.timestamp()], "end_epoch": ["FLOAT64", far.timestamp()],
        "bucket_seconds": ["FLOAT64", FAR.total_seconds()]}, also=True)
    runner = runner_for(config, tmp_path, FRESH_NOW)
    try:
        fresh, stale = runner.run_monitor("fresh"), runner.run_monitor("stale")
    finally:
        runner.close()
    assert fresh.status is Status.OK, fresh
    metrics = {m.name: m.value for m in fresh.metrics}
    assert metrics["watchdog.freshness.age_seconds"] == 3600
    assert metrics["watchdog.freshness.rows_in_window"] == 12
    assert stale.status is Status.FAIL and "1h" in stale.summary
    assert metrics["watchdog.freshness.future_rows"] == 0
    assert sent(fake[0]) == [newest, ahead, counts, newest, ahead]
    # on the wire: DATETIME parameters holding the UTC wall clock
    sent_counts = [by_name(p) for p in sent_params(fake[0], counts)]  # the window, ahead x2
    assert [p["start"][1] for p in sent_counts] == ["2026-03-01T06:05:00.000000",
                                                    "2026-03-01T05:00:00.000000",
                                                    "2026-03-01T06:05:00.000000"]
    assert {k: v for k, v in sent_counts[1].items() if k in ("w0", "start", "end")} == {
        "w0": ("DATETIME", "2026-03-01T04:30:00.000000"),
        "start": ("DATETIME", "2026-03-01T05:00:00.000000"),
        "end": ("DATETIME", "2026-03-01T06:00:00.000000")}
    assert [by_name(p) for p in sent_params(fake[0], newest)] == [
        {"w0": ("DATETIME", "2026-03-01T04:30:00.000000"),
         "w1": ("DATETIME", "2026-03-01T06:05:00.000000")}] * 2
    # the schema is read once for both monitors and all their queries
    assert fake[0].table_gets() == ["test-proj.analytics.predictions"]


#: 05:20 at UTC-7 is 12:20 UTC, a Wednesday: volume judges 11:00-12:00 UTC.
VOLUME_NOW = datetime(2026, 3, 4, 5, 20, tzinfo=timezone(timedelta(hours=-7)))
VOLUME = """\
- id: vol
  kind: volume
  warehouse: bq
  table: analytics.predictions
  time_column: ts
  success: {column: status, value: ok}
  group_by: [model]
  baseline_weeks: 3
  step: 1h  # aligned hours, as recorded (windows slide by a quarter by default)
"""


def test_volume_on_a_datetime_column_binds_the_utc_wall_clock(fake: Fake,
                                                               tmp_path: Path) -> None:
    wh, config = setup(fake, tmp_path, VOLUME)
    judged = datetime(2026, 3, 4, 11, tzinfo=UTC)
    start = judged + HOUR - 4 * 7 * 24 * HOUR  # 4 weeks of hourly windows
    sql = wh.render("count_successes", table=PREDICTIONS, time_column="ts", start=start,
                    end=VOLUME_NOW, window=HOUR, group_by=["model"],
                    success=[Predicate(column="status", op="=", value="ok")]).sql
    counts = [50, 52, 48, 55]  # the judged hour and the same hour 1..3 weeks before
    rows = [[(judged - w * 7 * 24 * HOUR - start) // HOUR, "churn", n, n,
             (judged - w * 7 * 24 * HOUR).timestamp()] for w, n in enumerate(counts)]
    record(fake[0], sql, [["bucket_index", "FLOAT"], ["model", "STRING"],
                          ["row_count", "INTEGER"], ["success_count", "INTEGER"],
                          ["last_success_epoch", "FLOAT"]], rows, {
        "start": ["DATETIME", "2026-02-04T12:00:00.000000"],
        "end": ["DATETIME", "2026-03-04T12:20:00.000000"],
        "start_epoch": ["FLOAT64", 1770206400.0], "end_epoch": ["FLOAT64", 1772626800.0],
        "bucket_seconds": ["FLOAT64", 3600.0], "s0": ["STRING", "ok"]})
    runner = runner_for(config, tmp_path, VOLUME_NOW)
    try:
        result = runner.check(config.monitor("vol"))
    finally:
        runner.close()
    assert result.status is Status.OK, result
    got = {m.name: m.value for m in result.metrics if "model:churn" in m.tags}
    assert got["watchdog.predictions.count"] == counts[0]
    assert got["watchdog.predictions.expected"] == sorted(counts[1:])[1]  # the median
    (params,) = sent_params(fake[0], sql)
    assert {k: v for k, v in by_name(params).items() if k in ("start", "end")} == {
        "start": ("DATETIME", "2026-02-04T12:00:00.000000"),
        "end": ("DATETIME", "2026-03-04T12:20:00.000000")}


# -- the adapter: which type each column gets -------------------------------------------------


def test_a_timestamp_column_stays_timestamp(bq: Warehouse, fake: Fake) -> None:
    bq.count_rows(**ARGS["count_rows"])
    bq.newest(**ARGS["newest"])
    count, newest = (by_name(r.body["queryParameters"]) for r in fake[0].queries()
                     if r.path.endswith("/queries"))
    assert count["start"] == ("TIMESTAMP", "2026-03-01 00:00:00+00:00")
    assert count["end"] == ("TIMESTAMP", "2026-03-02 00:00:00+00:00")
    assert newest["w0"] == ("TIMESTAMP", "2026-03-01 00:00:00+00:00")
    assert fake[0].table_gets() == ["test-proj.analytics.events"]  # once for both


def test_a_time_column_missing_from_the_schema_is_a_clear_error(bq: Warehouse,
                                                                  fake: Fake) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(TableNotFound) as info:
        bq.count_rows(PREDICTIONS, "tss", start, start + HOUR, HOUR)
    assert str(info.value) == (
        "warehouse 'bq': count_rows on analytics.predictions: analytics.predictions has no "
        "column 'tss' (check the table and column names in the config (the monitor's "
        "time_column and where))")
    assert fake[0].queries() == []  # nothing ran, nothing billed


def test_date_columns_bind_dates_that_keep_each_comparison(bq: Warehouse, fake: Fake) -> None:
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    where = [Predicate(column="day", op=">", value=datetime(2026, 2, 27, 12, tzinfo=UTC)),
             Predicate(column="day", op="<=", value=datetime(2026, 3, 5, 6, tzinfo=UTC)),
             Predicate(column="day", op="in", value=[datetime(2026, 3, 1, tzinfo=UTC),
                                                     datetime(2026, 3, 2, 15, tzinfo=UTC)])]
    sql = bq.render("count_rows", table=DAILY, time_column="day", start=at,
                    end=datetime(2026, 3, 3, tzinfo=UTC), bucket=timedelta(days=1),
                    where=where).sql
    record(fake[0], sql, COUNT_SCHEMA, [[0, 3]], {
        # day >= 10:00 on the 1st holds from the 2nd; day < midnight of the 3rd: before it
        "start": ["DATE", "2026-03-02"], "end": ["DATE", "2026-03-03"],
        "w0": ["DATE", "2026-02-27"], "w1": ["DATE", "2026-03-05"],
        "w2_0": ["DATE", "2026-03-01"], "w2_1": ["DATE", "2026-03-02"],
        "start_epoch": ["FLOAT64", at.timestamp()], "end_epoch": ["FLOAT64", 1772496000.0],
        "bucket_seconds": ["FLOAT64", 86400.0]})
    counts = bq.count_rows(DAILY, "day", at, datetime(2026, 3, 3, tzinfo=UTC),
                           timedelta(days=1), where)
    assert [c.rows for c in counts] == [3, 0]


@pytest.mark.parametrize("op", [">=", ">", "<", "<=", "="])
def test_a_bound_date_keeps_the_comparison_of_the_days_midnight(op: str) -> None:
    """For every day d and time t: ``midnight(d) op t`` iff ``d op bound(t)``."""
    compare = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
               "<=": lambda a, b: a <= b, "=": lambda a, b: a == b}[op]
    days = [date(2026, 2, 27) + timedelta(days=i) for i in range(5)]
    times = [datetime(2026, 2, 28, tzinfo=UTC) + timedelta(hours=h) for h in (0, 1, 12, 23, 24)]
    for d, t in itertools.product(days, times):
        bound = bound_time(TimeBind(table=DAILY, column="day", op=op, at=t), "DATE")
        midnight = datetime(d.year, d.month, d.day, tzinfo=UTC)
        if op != "=" or t.hour == 0:  # "=" a time that is no midnight: see below
            assert compare(d, bound) == compare(midnight, t), (d, op, t, bound)
    assert bound_time(TimeBind(table=DAILY, column="day", op="=", at=times[2]),
                      "DATE") == date(2026, 2, 28)  # "=" a time: the day it falls in


@pytest.mark.parametrize(("column", "kind", "value"), [
    ("_PARTITIONTIME", "TIMESTAMP", "2026-03-01 00:00:00+00:00"),
    ("_PARTITIONDATE", "DATE", "2026-03-01"),
])
def test_partition_pseudo_columns_have_their_own_types(bq: Warehouse, fake: Fake, column: str,
                                                       kind: str, value: str) -> None:
    since = [Predicate(column=column, op=">=", value=datetime(2026, 3, 1, tzinfo=UTC))]
    sql = bq.render("newest", table=EVENTS, time_column=column, where=since).sql
    record(fake[0], sql, [["newest", kind]], [[None]], {"w0": [kind, value]})
    assert bq.newest(EVENTS, column, since) is None


def test_a_changed_column_type_is_read_again_after_a_failure(bq: Warehouse, fake: Fake) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    sql = bq.render("count_rows", table=PREDICTIONS, time_column="ts", start=start,
                    end=start + HOUR, bucket=HOUR).sql
    epochs = {"start_epoch": ["FLOAT64", 1772323200.0], "end_epoch": ["FLOAT64", 1772326800.0],
              "bucket_seconds": ["FLOAT64", 3600.0]}
    record(fake[0], sql, COUNT_SCHEMA, [[0, 1]], {
        "start": ["DATETIME", "2026-03-01T00:00:00.000000"],
        "end": ["DATETIME", "2026-03-01T01:00:00.000000"], **epochs})
    assert [c.rows for c in bq.count_rows(PREDICTIONS, "ts", start, start + HOUR, HOUR)] == [1]
    # the column becomes a TIMESTAMP: the cached DATETIME fails once, then it is read again
    fake[0].add_table("test-proj.analytics.predictions", [["ts", "TIMESTAMP"]])
    record(fake[0], sql, COUNT_SCHEMA, [[0, 2]], {
        "start": ["TIMESTAMP", "2026-03-01 00:00:00+00:00"],
        "end": ["TIMESTAMP", "2026-03-01 01:00:00+00:00"], **epochs})
    with pytest.raises(QueryError, match=r"end: sent \['DATETIME', .*; start: sent "
                                         r"\['DATETIME', '2026-03-01T00:00:00.000000'\], "
                                         r"recorded \['TIMESTAMP'"):
        bq.count_rows(PREDICTIONS, "ts", start, start + HOUR, HOUR)
    assert len(fake[0].mismatches) == 1
    fake[0].mismatches.clear()
    assert [c.rows for c in bq.count_rows(PREDICTIONS, "ts", start, start + HOUR, HOUR)] == [2]
    assert fake[0].table_gets() == ["test-proj.analytics.predictions"] * 2


def test_a_wildcard_table_binds_timestamps_without_reading_a_schema(bq: Warehouse,
                                                                    fake: Fake) -> None:
    shards = TableRef(schema="analytics", name="events_*")
    since = [Predicate(column="ts", op=">=", value=datetime(2026, 3, 1, tzinfo=UTC))]
    sql = bq.render("newest", table=shards, time_column="ts", where=since).sql
    assert normalise(sql).startswith("SELECT MAX(`ts`) AS `newest` FROM `test-proj`.`analytics`."
                                     "`events_*`")
    record(fake[0], sql, [["newest", "TIMESTAMP"]], [[None]],
           {"w0": ["TIMESTAMP", "2026-03-01 00:00:00+00:00"]})
    assert bq.newest(shards, "ts", since) is None
    assert fake[0].table_gets() == []


def test_contract_bounds_on_datetime_and_date_columns_take_the_columns_types(
        bq: Warehouse, fake: Fake) -> None:
    """A contract's datetime bounds compare with a DATETIME or DATE column too: in_range,
    greater_than and isin bind the column's type, a TIMESTAMP column keeps TIMESTAMP."""
    lo, hi = datetime(2026, 1, 1, 6, tzinfo=UTC), datetime(2026, 3, 1, 23, tzinfo=UTC)
    rules = [Rule(check="in_range", columns=("ts",), family="timestamp",
                  args={"min_value": lo, "max_value": hi, "include_max": False}),
             Rule(check="greater_than", columns=("ts",), family="timestamp",
                  args={"value": lo}),
             Rule(check="isin", columns=("ts",), family="timestamp", args={"values": (hi,)}),
             Rule(check="not_null", columns=("ts",), family="timestamp")]
    schema = [["row_count", "INTEGER"], *([f"f{i}", "INTEGER"] for i in range(4))]
    for table, kind, values in [
            (PREDICTIONS, "DATETIME", ["2026-01-01T06:00:00.000000", "2026-03-01T23:00:00.000000"]),
            (DAILY, "DATE", ["2026-01-02", "2026-03-02"]),
            (EVENTS, "TIMESTAMP", ["2026-01-01 06:00:00+00:00", "2026-03-01 23:00:00+00:00"])]:
        column = "day" if table is DAILY else "ts"
        named = [Rule(check=r.check, columns=(column,), family=r.family, args=r.args)
                 for r in rules]
        sql = bq.render("contract_failures", table=table, rules=named).sql
        low, high = values
        # DATE: ts >= 06:00 on Jan 1 holds from Jan 2; < 23:00 on Mar 1 up to and incl. Mar 1
        # (sent as Mar 2 with <); > 06:00 on Jan 1 holds from Jan 2 (as > Jan 1); = : the day
        expected = {"r0_0": [kind, low], "r0_1": [kind, high],
                    "r1_0": [kind, "2026-01-01" if kind == "DATE" else low],
                    "r2_0": [kind, "2026-03-01" if kind == "DATE" else high]}
        record(fake[0], sql, schema, [[10, 1, 2, 3, 0]], expected)
        counts = bq.contract_failures(table, named)
        assert (counts.rows, counts.failures) == (10, (1, 2, 3, 0)), kind
