"""Principals' privileges on BigQuery through the loopback stand-in, with the requests the
real google-cloud-bigquery client sends: tables.getIamPolicy per table, datasets.get once
per dataset; no query job. A table-level binding, a dataset READER entry (a service account
appears there as userByEmail), a WRITER; a binding removed is a loss; a missing table is
absent from the answer."""

from __future__ import annotations

from tests.warehouses.bigquery.fake_server import FakeBigQuery
from watchdog.models import TableRef
from watchdog.warehouses import Warehouse

SVC = "serviceAccount:churn@test-proj.iam.gserviceaccount.com"
EVENTS = TableRef(schema="analytics", name="events")
LABELS = TableRef(schema="analytics", name="labels")


def _held(bq: Warehouse, principal: str, tables: list[TableRef]) -> dict[tuple[str, str], bool]:
    return {(g.table.name, g.privilege): bool(g.granted)
            for g in bq.access([principal], tables, ["select", "insert"])}


def test_table_policy_and_dataset_entries_and_the_requests_sent(
        fake: tuple[FakeBigQuery, str], bq: Warehouse) -> None:
    state, _ = fake
    assert bq.SUPPORTS_ACCESS_CHECK and not bq.SUPPORTS_OWN_ACCESS
    state.policies["test-proj.analytics.events"] = [
        {"role": "roles/bigquery.dataViewer", "members": [SVC, "user:ana@example.com"]}]
    state.policies["test-proj.analytics.labels"] = []
    state.datasets["test-proj.analytics"] = [
        {"role": "READER", "userByEmail": "churn@test-proj.iam.gserviceaccount.com"},
        {"role": "WRITER", "groupByEmail": "loaders@example.com"},
        {"role": "OWNER", "specialGroup": "projectOwners"},
        {"view": {"projectId": "test-proj", "datasetId": "analytics", "tableId": "v"}}]
    assert _held(bq, SVC, [EVENTS, LABELS]) == {
        ("events", "select"): True, ("events", "insert"): False,
        ("labels", "select"): True, ("labels", "insert"): False}  # the dataset's READER
    assert _held(bq, "group:loaders@example.com", [LABELS]) == {
        ("labels", "select"): True, ("labels", "insert"): True}
    assert _held(bq, "bob@example.com", [EVENTS]) == {
        ("events", "select"): False, ("events", "insert"): False}

    calls = [(r.method, r.path, r.body) for r in state.requests if r.path != "/token"]
    prefix = "/bigquery/v2/projects/test-proj/datasets/analytics"
    assert calls[:3] == [
        ("POST", f"{prefix}/tables/events:getIamPolicy",
         {"options": {"requestedPolicyVersion": 1}}),
        ("GET", prefix, {}),
        ("POST", f"{prefix}/tables/labels:getIamPolicy",
         {"options": {"requestedPolicyVersion": 1}})]
    assert not state.queries()  # metadata calls only: nothing billed

    # the dataset entry removed: only the table binding is left on events
    state.datasets["test-proj.analytics"] = []
    assert _held(bq, SVC, [EVENTS, LABELS]) == {
        ("events", "select"): True, ("events", "insert"): False,
        ("labels", "select"): False, ("labels", "insert"): False}


def test_a_missing_table_is_absent(fake: tuple[FakeBigQuery, str], bq: Warehouse) -> None:
    state, _ = fake
    state.datasets["test-proj.analytics"] = []
    assert bq.access([SVC], [TableRef(schema="analytics", name="gone")], ["select"]) == []
