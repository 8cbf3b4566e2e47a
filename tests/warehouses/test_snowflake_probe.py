"""The Snowflake change probe (``change_probe: true``) with a LAST_DDL that moves: the
stand-in's INFORMATION_SCHEMA.TABLES reads LAST_DDL/LAST_DDL_BY from a fixture table the
test stamps when it runs DDL. The SQL each poll sends is recorded by the loopback proxy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("fakesnow")

from tests.helpers import config_from, schema_config
from tests.warehouses.standins.fakesnow_backend import snowflake_backend, stamp_ddl
from tests.warehouses.standins.snowflake_proxy import Recorder, recording_proxy
from watchdog.daemon.runner import Runner
from watchdog.models import CheckResult
from watchdog.state import Store

NOW = datetime.now(UTC).replace(microsecond=0)


def reasons(result: CheckResult) -> set[str]:
    return {f.reason for f in result.findings}


def sent(recorder: Recorder) -> tuple[int, int]:
    """(probe queries, column reads) sent since the last clear."""
    queries = recorder.queries()
    recorder.clear()
    return (sum("AS token" in q for q in queries),
            sum("INFORMATION_SCHEMA.COLUMNS" in q for q in queries))


def test_a_poll_reads_columns_only_after_last_ddl_moved(tmp_path: Path) -> None:
    with snowflake_backend(tmp_path / "sf") as seed:
        seed.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        seed.execute('CREATE TABLE {schema}."features" (a INTEGER)')
        s = seed.settings
        with recording_proxy(s["host"], s["port"]) as (port, recorder):
            wh = {"type": "snowflake", "settings": {**s, "port": port, "change_probe": True}}
            cfg = config_from(tmp_path, schema_config(wh, ["wd_test.features"]))
            runner = Runner(cfg, Store.open(f"sqlite:///{tmp_path}/state.db"), [],
                            clock=lambda: NOW)
            monitor = cfg.monitor("sc")
            try:
                assert runner.check(monitor).summary == "baseline of 1 table(s) taken"
                recorder.clear()
                assert reasons(runner.check(monitor)) == {"NO_DDL"}
                assert sent(recorder) == (1, 0)  # the probe, and no column query

                # DDL the catalog has not stamped stays unseen: the probe alone decides
                seed.execute('ALTER TABLE {schema}."features" ADD COLUMN b INTEGER')
                assert reasons(runner.check(monitor)) == {"NO_DDL"}
                assert sent(recorder) == (1, 0)

                at = stamp_ddl(s["database"], "wd_test", "features", "BOB")
                changed = runner.check(monitor)
                assert "COLUMN_ADDED" in reasons(changed)
                probes, reads = sent(recorder)
                assert probes == 1 and reads >= 1
                (event,) = changed.events
                assert "change:column_added" in event.tags
                assert f"`BOB` (the catalog's last DDL on the table, at {at:%Y-%m-%d %H:%M:%S}" \
                    in event.text

                # the moved token is remembered: the next poll is quiet again
                assert reasons(runner.check(monitor)) == {"NO_DDL"}
                assert sent(recorder) == (1, 0)
            finally:
                runner.close()


def test_one_catalog_read_names_the_authors_of_every_changed_table(tmp_path: Path) -> None:
    """Two tables changed in one poll, no audit row yet: each event names its own author,
    from a single LAST_DDL_BY query for both."""
    with snowflake_backend(tmp_path / "sf") as seed:
        seed.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        for name in ("features", "labels"):
            seed.execute(f'CREATE TABLE {{schema}}."{name}" (a INTEGER)')
        s = seed.settings
        with recording_proxy(s["host"], s["port"]) as (port, recorder):
            wh = {"type": "snowflake", "settings": {**s, "port": port}}
            cfg = config_from(tmp_path, schema_config(wh, ["wd_test.features", "wd_test.labels"]))
            runner = Runner(cfg, Store.open(f"sqlite:///{tmp_path}/state.db"), [],
                            clock=lambda: NOW)
            try:
                runner.check(cfg.monitor("sc"))
                for name, who in (("features", "BOB"), ("labels", "CAROL")):
                    seed.execute(f'ALTER TABLE {{schema}}."{name}" ADD COLUMN b INTEGER')
                    stamp_ddl(s["database"], "wd_test", name, who)
                recorder.clear()
                changed = runner.check(cfg.monitor("sc"))
            finally:
                runner.close()
    authors = {e.title.split(" on ")[1].split(":")[0]: e.text for e in changed.events}
    assert "`BOB` (the catalog's" in authors["wd_test.features"]
    assert "`CAROL` (the catalog's" in authors["wd_test.labels"]
    assert sum("last_ddl_by" in q.lower() for q in recorder.queries()) == 1
