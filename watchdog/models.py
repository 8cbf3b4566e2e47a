"""Frozen value objects passed between the layers. No I/O here.

Times are timezone-aware UTC datetimes everywhere above the adapters; adapters convert.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from watchdog.lazy import lazy

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
else:
    np = lazy("numpy")


@dataclass(frozen=True, slots=True, kw_only=True)
class TableRef:
    """A table named by schema and name (and database, for warehouses that have one)."""

    schema: str
    name: str
    database: str | None = None

    @classmethod
    def parse(cls, text: str, *, default_schema: str) -> TableRef:
        """``"name"``, ``"schema.name"`` or ``"database.schema.name"``; names are kept verbatim."""
        parts = text.split(".")
        if len(parts) == 1:
            return cls(schema=default_schema, name=parts[0])
        if len(parts) == 2:
            return cls(schema=parts[0], name=parts[1])
        return cls(database=".".join(parts[:-2]), schema=parts[-2], name=parts[-1])

    def __str__(self) -> str:
        prefix = f"{self.database}." if self.database else ""
        return f"{prefix}{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """A column as the warehouse reports it. ``type_family`` is the normalised type."""

    name: str
    position: int
    data_type: str
    type_family: str
    nullable: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaChange:
    """One difference between two snapshots of a table (see ``checks/schema/diff.py``).

    ``kind`` is one of table_created, table_dropped, table_renamed, column_added,
    column_dropped, column_renamed, type_changed, nullability_changed, order_changed.
    ``before``/``after`` hold the old and new name, type or nullability as text;
    ``compat`` says how a type changed: widening, narrowing, family (a change of type family)
    or changed (same family, compatibility unknown). ``probable`` marks a rename guessed by
    the heuristic rather than read from the audit log.
    """

    kind: str
    table: str
    column: str | None = None
    before: str | None = None
    after: str | None = None
    compat: str | None = None
    probable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One DDL statement from a warehouse's audit log: who ran what, and when.

    ``seq`` orders events in commit order and is the cursor for the next read;
    ``objects`` names the tables it touched (``schema.table``, unquoted; ``db.schema.table``
    where the warehouse has several databases and the table is not in the default one).
    """

    seq: int
    at: datetime
    user: str
    command: str
    statement: str
    objects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DdlStamp:
    """A table's last DDL as the warehouse's catalog records it, without audit-log latency
    (Snowflake's ``TABLES.LAST_DDL`` / ``LAST_DDL_BY``): when, and by which user."""

    at: datetime
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessGrant:
    """Whether ``principal`` holds ``privilege`` on ``table`` (directly or through a role it
    is a member of). ``granted`` is None when the warehouse knows no such principal;
    ``schema_usage`` says whether it may use the table's schema (without it the table
    privilege is of no use, and counts as not granted)."""

    principal: str
    table: TableRef
    privilege: str
    granted: bool | None
    schema_usage: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Predicate:
    """A structured filter ``column op value``; adapters render it with a bound value."""

    column: str
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"]
    value: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketCount:
    """Rows whose time column falls in ``[start, end)``."""

    start: datetime
    end: datetime
    rows: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowCount:
    """Rows of one group whose time column falls in ``[start, end)``, and how many succeeded.

    ``group`` holds the group-by values in the order asked (empty without a group-by);
    ``last_success`` is the newest time of a successful row in the window (UTC), if any.
    """

    start: datetime
    end: datetime
    group: tuple[Any, ...] = ()
    total: int
    successes: int
    last_success: datetime | None = None

    @property
    def success_ratio(self) -> float | None:
        """Successes over all rows; None for an empty window."""
        return self.successes / self.total if self.total else None


@dataclass(frozen=True, slots=True, eq=False)
class Buckets:
    """Counts (or sums) per bucket: ``keys`` ascending and distinct (int64), ``values`` one
    row per key (its columns, e.g. positives and negatives). Numpy arrays, so that a window
    of 10,000 score buckets is folded, merged and scored without a Python loop; iterating
    yields ``(key, *values)`` tuples. Equal when both arrays are."""

    keys: NDArray[Any]
    values: NDArray[Any]

    @staticmethod
    def of(rows: Sequence[Sequence[float]] | Buckets, width: int = 2) -> Buckets:
        """From ``(key, *values)`` rows in any order (repeated keys added)."""
        if isinstance(rows, Buckets):
            return rows
        if not len(rows):
            return Buckets.empty(width)
        table = np.asarray(rows, dtype=object).reshape(-1, width + 1)
        keys = table[:, 0].astype(np.int64)
        values = table[:, 1:]
        kind = np.int64 if all(isinstance(v, int) for v in values.flat) else np.float64
        return Buckets(keys=keys, values=values.astype(kind)).normalised()

    @staticmethod
    def empty(width: int = 2, kind: type = int) -> Buckets:
        return Buckets(keys=np.zeros(0, np.int64),
                       values=np.zeros((0, width), np.int64 if kind is int else np.float64))

    def normalised(self) -> Buckets:
        """Sorted by key, repeated keys added (a no-op when already so)."""
        keys = self.keys
        if len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1])):
            return self
        return Buckets.total([self])

    @staticmethod
    def total(parts: Sequence[Buckets]) -> Buckets:
        """The buckets of all ``parts`` added key by key."""
        parts = [p for p in parts if len(p.keys)]
        if not parts:
            return Buckets.empty()
        if len(parts) == 1 and bool(np.all(parts[0].keys[1:] > parts[0].keys[:-1])):
            return parts[0]
        keys = np.concatenate([p.keys for p in parts])
        values = np.concatenate([p.values for p in parts])
        low, span = int(keys.min()), int(keys.max() - keys.min()) + 1
        present: Any
        if span <= 4 * len(keys) + 1024:  # dense keys (score buckets): no sort
            where = keys - low
            present = np.bincount(where, minlength=span) > 0
            unique, size = np.flatnonzero(present) + low, span
        else:
            unique, where = np.unique(keys, return_inverse=True)
            present, size = slice(None), len(unique)
        summed = np.stack([np.bincount(where, weights=values[:, i], minlength=size)[present]
                           for i in range(values.shape[1])], axis=1)
        return Buckets(keys=unique.astype(np.int64), values=summed.astype(values.dtype))

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Any:
        return ((k, *v) for k, v in zip(self.keys.tolist(), self.values.tolist(), strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple | list):
            other = Buckets.of(other, self.values.shape[1]) if other else Buckets.empty(
                self.values.shape[1])
        if not isinstance(other, Buckets):
            return NotImplemented
        return bool(np.array_equal(self.keys, other.keys)
                    and np.array_equal(self.values, other.values))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestSums:
    """Additive aggregates of one window and group of a backtest (predictions joined to
    their labels), from which every backtest metric is computed (``checks/backtest``).

    ``predictions`` counts every prediction, ``labelled`` those with a label (and a score).
    Classification: ``tp``/``fp``/``fn`` at the threshold, ``positives`` (labels), the sums
    of the scores, of the clipped log loss terms and of the Brier terms (and of their
    squares, for intervals), and ``scores``: ``(score bucket, positives, negatives)`` per
    fine score bucket (``round(score * resolution)``), for AUROC. Regression: the sums of
    the error ``score - label``, of its absolute value, square and fourth power, of the
    labels and their squares, and of the absolute percentage errors over ``ape_rows`` rows
    whose label is not 0. ``delay_sum``/``delay_max``: seconds from prediction to label,
    ``delays``: ``(delay bucket, labelled rows)`` per logarithmic bucket of the delay (its
    quantiles). Classification, over every scored prediction whether labelled or not
    (confidence-based estimation): ``scored`` rows, the expected confusion counts
    ``est_tp`` (the sum of the scores at or above the threshold), ``est_fp`` (of one minus
    them), ``est_fn`` and ``est_tn`` (the same below the threshold), and ``expected``:
    ``(score bucket, sum of scores, sum of one minus the scores)`` per bucket. The
    per-bucket fields are :class:`Buckets` (``(bucket, *counts)`` tuples are accepted).
    Sums of two groups or windows are their :meth:`merged` aggregates.
    """

    predictions: int = 0
    labelled: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    positives: int = 0
    score_sum: float = 0.0
    log_loss_sum: float = 0.0
    log_loss_sq: float = 0.0
    brier_sum: float = 0.0
    brier_sq: float = 0.0
    scores: Buckets = field(default_factory=Buckets.empty)
    error_sum: float = 0.0
    abs_error_sum: float = 0.0
    sq_error_sum: float = 0.0
    quartic_error_sum: float = 0.0
    label_sum: float = 0.0
    label_sq_sum: float = 0.0
    ape_sum: float = 0.0
    ape_sq_sum: float = 0.0
    ape_rows: int = 0
    delay_sum: float = 0.0
    delay_max: float | None = None
    delays: Buckets = field(default_factory=lambda: Buckets.empty(1))
    scored: int = 0
    est_tp: float = 0.0
    est_fp: float = 0.0
    est_fn: float = 0.0
    est_tn: float = 0.0
    expected: Buckets = field(default_factory=lambda: Buckets.empty(2, float))

    def __post_init__(self) -> None:
        # ``(bucket, *counts)`` tuples are accepted (tests, hand-built sums)
        for name, width in (("scores", 2), ("expected", 2), ("delays", 1)):
            value = getattr(self, name)
            if not isinstance(value, Buckets):
                object.__setattr__(self, name, Buckets.of(value, width) if value
                                   else Buckets.empty(width, float if name == "expected"
                                                      else int))

    @property
    def tn(self) -> int:
        return self.labelled - self.tp - self.fp - self.fn

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values: per-bucket fields as ``[bucket, *counts]`` lists
        (:meth:`from_json` reads them back)."""
        out: dict[str, Any] = {}
        for name in BacktestSums.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = [[k, *row] for k, row in zip(value.keys.tolist(),
                                                     value.values.tolist(), strict=True)] \
                if isinstance(value, Buckets) else value
        return out

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> BacktestSums:
        kw: dict[str, Any] = {k: tuple(tuple(x) for x in v) if isinstance(v, list) else v
                              for k, v in doc.items()}
        return BacktestSums(**kw)

    def merged(self, other: BacktestSums) -> BacktestSums:
        """The aggregates of both (buckets added bucket by bucket)."""
        return BacktestSums.total((self, other))

    @staticmethod
    def total(parts: Sequence[BacktestSums]) -> BacktestSums:
        """The aggregates of all of ``parts`` at once."""
        if len(parts) == 1:
            return parts[0]
        values: dict[str, Any] = {}
        for name in BacktestSums.__dataclass_fields__:
            found = [getattr(part, name) for part in parts]
            if name in ("scores", "expected", "delays"):
                values[name] = Buckets.total(found) if any(len(f) for f in found) \
                    else found[0] if found else None
            elif name == "delay_max":
                values[name] = max((v for v in found if v is not None), default=None)
            else:
                values[name] = sum(found)
        return BacktestSums(**{k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestWindow:
    """The backtest aggregates of one group's predictions made in ``[start, end)``."""

    start: datetime
    end: datetime
    group: tuple[Any, ...] = ()
    sums: BacktestSums


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestSpec:
    """What a backtest joins and scores: ``predictions`` (``time_column`` places a row in
    its window, ``score`` is the model's output) left-joined to ``labels`` on ``key`` =
    ``label_key``; ``label`` is the ground truth (classification: not 0 is positive),
    ``label_time`` when it was observed (for the label delay). Classification counts
    ``score >= threshold`` as a positive prediction and buckets scores by ``resolution``
    per unit (AUROC); ``group_by`` are columns of the predictions table."""

    predictions: TableRef
    labels: TableRef
    time_column: str
    key: tuple[str, ...]
    label_key: tuple[str, ...]
    score: str
    label: str
    task: Literal["classification", "regression"] = "classification"
    threshold: float = 0.5
    group_by: tuple[str, ...] = ()
    label_time: str | None = None
    resolution: int = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Histogram:
    """Counts of a numeric column over ``edges`` (ascending, k+1 edges for k bins).

    Bin i holds ``edges[i] <= x < edges[i+1]``; the last bin also holds ``x == edges[-1]``.
    ``below``/``above`` hold values outside the edges; ``missing`` holds NULL (and NaN).
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    below: int = 0
    above: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts) + self.below + self.above + self.missing


class FineGrid(NamedTuple):
    """A fine monotone grid over a numeric column: value x falls in bucket
    ``floor(R * (g((x - center) / scale) + 1) / 2)``, 0 … R (``resolution``), where ``g``
    takes the line onto (-1, 1): ``softsign`` ``g(t) = t / (1 + |t|)`` (arithmetic only:
    profiles of layout 4), or ``atan`` ``g(t) = 2 atan(t) / pi`` (profiles of layout 3; a
    transcendental per value costs the warehouse a third more CPU for the grid)."""

    center: float
    scale: float
    resolution: int
    map: Literal["softsign", "atan"] = "softsign"


@dataclass(frozen=True, slots=True, kw_only=True)
class FineCounts:
    """Counts of a numeric column over a fine monotone grid (:class:`FineGrid`; buckets 0 …
    resolution), from one GROUP BY in the warehouse: ``counts`` (a numpy int64 array of
    ``resolution + 1``), ``missing`` (NULL and NaN), and with ``moments`` asked for, the sums
    of ``x - center`` and of its square over the present values (exact mean and variance)."""

    counts: Any
    missing: int = 0
    sum: float | None = None
    sum_sq: float | None = None

    @property
    def present(self) -> int:
        return int(self.counts.sum())

    @property
    def total(self) -> int:
        return self.present + self.missing


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryCounts:
    """Counts of a column's values as text: ``counts`` for the values asked for (or the
    most frequent ones), ``other`` for every other non-NULL value, ``missing`` for NULL."""

    counts: tuple[tuple[str, int], ...]
    other: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts) + self.other + self.missing


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One contract check compiled for a warehouse (see ``Warehouse.contract_failures``).

    ``check`` is ``not_null``, ``unique`` (no two non-NULL values equal), ``unique_combination``
    (over ``columns``, rows with a NULL in them skipped) or a value check named as pandera
    names it: equal_to, not_equal_to, greater_than, greater_than_or_equal_to, less_than,
    less_than_or_equal_to (``args["value"]``), in_range (``min_value``, ``max_value``,
    ``include_min``, ``include_max``), isin / notin (``values``), str_matches (``pattern``,
    matched from the start of the value), str_length (``min_value``, ``max_value``).
    Value checks never fail on NULL or NaN. ``family`` is the column's type family.
    """

    check: str
    columns: tuple[str, ...]
    args: Mapping[str, Any] = field(default_factory=dict)
    family: str = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleCounts:
    """Rows read by one contract scan and the failing rows of each rule, in rule order;
    ``examples`` (failing values as text, per rule) when the scan collected them too, else
    None (then ``Warehouse.failure_examples`` fetches them)."""

    rows: int
    failures: tuple[int, ...]
    examples: tuple[tuple[str, ...], ...] | None = None


class Status(enum.Enum):
    """Outcome of one check. FAIL means the data is bad; ERROR means the check could not run."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def is_problem(self) -> bool:
        return self in (Status.WARN, Status.FAIL, Status.ERROR)


_SEVERITY = {Status.SKIPPED: 0, Status.OK: 1, Status.WARN: 2, Status.FAIL: 3, Status.ERROR: 4}


def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """The most severe status, OK for none."""
    return max(statuses, key=lambda s: s.severity, default=Status.OK)


_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """One data point. Names are ``watchdog.<kind>.<measure>``; tags are low-cardinality."""

    name: str
    value: float
    tags: tuple[str, ...] = ()
    timestamp: float | None = None  # epoch seconds; None means "now" at send time
    type: Literal["gauge", "count"] = "gauge"

    def __post_init__(self) -> None:
        if not _METRIC_NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")


#: A group of a grouped monitor: ``(column, value)`` pairs, e.g. ``(("model", "churn"),)``.
Group = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing a check found: its status, a reason code, a one-line message, structured
    details, and the group it is about (grouped monitors: each group is its own alert)."""

    reason: str
    message: str
    status: Status = Status.OK
    subject: str | None = None
    group: Group = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def about(self) -> str:
        """What the finding is about within its table: a feature, column or check; for a
        lost grant, who revoked it (so that learning it late, from a lagging audit log, is
        one more thing to say, not the same alert again)."""
        d = self.details
        for key in ("feature", "column", "check", "revoked_by"):
            if d.get(key):
                return str(d[key])
        return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """What one monitor found that may explain failures other monitors see later on the
    same table: a schema change (its columns, who, which statement) or a stale table."""

    kind: Literal["schema_change", "stale"]
    monitor_id: str
    warehouse: str
    table: str
    at: datetime
    expires: datetime
    title: str
    aggregation_key: str
    columns: tuple[str, ...] = ()
    group: Group = ()
    by: str | None = None
    statement: str | None = None
    handles: tuple[str, ...] = ()  # who its own event notified


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineRun:
    """One run of a job that writes tables: an Airflow DAG run (and one task's instance in
    it) or a dbt model's result. ``state`` is ``success``, ``failed``, ``running``,
    ``queued``, ``skipped`` or the tool's own word; times are aware UTC."""

    source: str  # the name under pipelines.sources
    job: str  # the DAG's id, or the dbt model's name
    task: str | None = None  # the Airflow task's id, for a task's instance
    label: str  # how a person names it: "DAG feature_build task compute_features"
    run_id: str
    state: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    try_number: int | None = None
    tries: int | None = None  # the most tries it gets (retries + 1)

    @property
    def ref(self) -> str:
        """The job reference that reads this run back: ``job``, or ``job/task``."""
        return job_ref(self.job, self.task)

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    @property
    def done(self) -> bool:
        """Whether the run has ended (succeeded, failed or was skipped)."""
        return self.state in ("success", "failed", "skipped")

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def text(self) -> str:
        """``DAG feature_build task compute_features failed at 03:10, try 3/3``."""
        at = self.finished_at or self.started_at
        when = f" at {at:%H:%M}" if at is not None and self.done else (
            f" since {at:%H:%M}" if at is not None else "")
        tries = (f", try {self.try_number}/{self.tries}"
                 if self.try_number is not None and self.tries is not None else "")
        return f"{self.label} {self.state}{when}{tries}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in _RUN_FIELDS}
        for k in ("started_at", "finished_at"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PipelineRun:
        values: dict[str, Any] = {k: data.get(k) for k in _RUN_FIELDS}
        for k in ("started_at", "finished_at"):
            values[k] = datetime.fromisoformat(values[k]) if values[k] else None
        return cls(**values)


#: Between a DAG's id and its task's in a job reference. Airflow's ids match its
#: ``KEY_REGEX`` ``^[\w.-]+$`` (airflow.sdk ``validate_key``; a task in a task group is
#: ``group.task``): dots are common, ``/`` never occurs, so a reference splits one way only.
JOB_TASK_SEP = "/"


def job_ref(job: str, task: str | None = None) -> str:
    """``feature.build`` and ``group.compute`` → ``feature.build/group.compute``."""
    return f"{job}{JOB_TASK_SEP}{task}" if task else job


def split_job_ref(ref: str) -> tuple[str, str | None]:
    """``job_ref``'s inverse: the job (DAG id, dbt model) and the task, or None."""
    job, sep, task = ref.partition(JOB_TASK_SEP)
    return job, (task if sep else None)


_RUN_FIELDS = ("source", "job", "task", "label", "run_id", "state", "started_at", "finished_at",
               "try_number", "tries")


#: The state-store document (kind, and key of a table) holding the latest run of each job
#: that writes the table, kept by pipeline monitors and named in other monitors' events.
WRITER_RUNS = "pipeline.latest"


def writer_runs_key(warehouse: str, table: str) -> str:
    return f"{warehouse}:{table}"


#: Privileges a table's writer needs: losing one of them stops the writes.
WRITE_PRIVILEGES = ("insert", "update", "delete")
#: The state-store document (kind; key: ``writer_runs_key``) holding, per access monitor,
#: the write privileges principals lost on the table, named in other monitors' events.
ACCESS_LOSSES = "access.lost"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessLoss:
    """A principal lost privileges it needs to write a table (as an access monitor last saw
    it), with the REVOKE behind it where the audit log has it."""

    principal: str
    table: str
    privileges: tuple[str, ...]  # upper case: INSERT, UPDATE
    by: str | None = None  # who ran the REVOKE; None where the log does not say
    at: datetime | None = None
    probable: bool = False  # from a role it inherits from, or a DROP of the table

    def text(self) -> str:
        """``etl_svc lost INSERT on main.features (REVOKE by alice at 03:02)``."""
        what = f"{self.principal} lost {', '.join(self.privileges)} on {self.table}"
        if self.by is None:
            return f"{what} (who revoked it is unknown)"
        when = f" at {self.at:%H:%M}" if self.at is not None else ""
        return f"{what} (REVOKE {'probably ' if self.probable else ''}by {self.by}{when})"

    def to_json(self) -> dict[str, Any]:
        return {"principal": self.principal, "table": self.table,
                "privileges": list(self.privileges), "by": self.by,
                "at": self.at.isoformat() if self.at is not None else None,
                "probable": self.probable}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccessLoss:
        return cls(principal=data["principal"], table=data["table"],
                   privileges=tuple(data["privileges"]), by=data.get("by"),
                   at=datetime.fromisoformat(data["at"]) if data.get("at") else None,
                   probable=bool(data.get("probable")))


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """The outcome of running one monitor once."""

    monitor_id: str
    kind: str
    status: Status
    summary: str
    warehouse: str | None = None
    subject: str | None = None  # usually the table, e.g. "main.predictions"
    reasons: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    findings: tuple[Finding, ...] = ()
    started_at: datetime | None = None
    duration_s: float = 0.0
    #: One-shot events the check composed itself (checks with ``LIFECYCLE_ALERTS = False``,
    #: e.g. a schema change: one event per table per poll, never "resolved").
    events: tuple[AlertEvent, ...] = ()
    #: What this result may explain in other monitors' results (see :class:`Cause`).
    causes: tuple[Cause, ...] = ()

    def problems(self) -> tuple[Finding, ...]:
        """The findings that are problems (WARN, FAIL, ERROR)."""
        return tuple(f for f in self.findings if f.status.is_problem)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEvent:
    """An event for people: what Datadog shows in the event stream and pages on."""

    title: str
    text: str  # markdown
    alert_type: Literal["error", "warning", "info", "success"]
    aggregation_key: str
    tags: tuple[str, ...] = ()
    priority: Literal["normal", "low"] = "normal"
    source_type_name: str = "watchdog"
    date_happened: int | None = None  # epoch seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceCheck:
    """A service check: status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""

    name: str
    status: int
    tags: tuple[str, ...] = ()
    message: str = ""
    timestamp: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Emission:
    """Everything one pass hands to the sinks."""

    results: tuple[CheckResult, ...] = ()
    events: tuple[AlertEvent, ...] = ()
    metrics: tuple[Metric, ...] = ()
    service_checks: tuple[ServiceCheck, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.results or self.events or self.metrics or self.service_checks)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertState:
    """What the alert policy remembers per dedup key (monitor + subject) between passes."""

    dedup_key: str
    monitor_id: str
    status: Literal["open", "resolved"]
    severity: Status  # the status that opened (or last updated) the alert
    fingerprint: str  # what the problem looked like; a change means an update event
    opened_at: datetime
    updated_at: datetime
    occurrences: int = 1  # passes that saw the problem since it opened
    #: what was failing, as announced (``reason:about``): a new one means an update event
    subjects: tuple[str, ...] = ()
    clean: int = 0  # clean passes in a row while open (recovery needs ``recover_after``)
    #: the aggregation key of the incident it joined (a cause's), else None
    incident: str | None = None


def same_table(a: str, b: str) -> bool:
    """``main.features`` matches ``features`` (a name without schema matches any schema)."""
    a_parts, b_parts = a.lower().split("."), b.lower().split(".")
    n = min(len(a_parts), len(b_parts))
    return a_parts[-n:] == b_parts[-n:]
