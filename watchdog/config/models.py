"""Pydantic models of config.yaml. Validated once into a frozen :class:`Config`.

Kind-specific monitor fields live in each check's ``Params`` model (a subclass of
:class:`MonitorConfig`), so a new check kind never has to touch this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, ClassVar, Literal

import pydantic
from pydantic import BeforeValidator, Field

from watchdog.models import Predicate

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: Any) -> Any:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"`` or a number of seconds."""
    if isinstance(value, timedelta) or value is None:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    raise ValueError("expected a duration such as 30s, 15m, 2h, 1d or 1w")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Strict(pydantic.BaseModel):
    """Base for every config model: unknown keys are errors, instances are frozen."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


#: Key, in the validation context, of the function that checks a cron expression (raising
#: ValueError with the reason). The scheduler owns cron parsing and sits above config, so the
#: loader (:func:`watchdog.load.load_config`) hands it in; a Schedule built in code is trusted.
CRON_CHECK = "check_cron"


class Schedule(Strict):
    """When a monitor runs: ``every: 15m`` or ``cron: "*/5 * * * *"`` (UTC by default)."""

    every: Duration | None = Field(None, description="Run at this interval.")
    cron: str | None = Field(None, description="A five-field crontab expression.")
    timezone: str = Field("UTC", description="Time zone of the cron expression.")
    jitter: Duration = Field(timedelta(0), description="Random delay added to each run.")

    @pydantic.model_validator(mode="after")
    def _one_of(self, info: pydantic.ValidationInfo) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' (e.g. 15m) or 'cron' (e.g. '0 * * * *')")
        check = (info.context or {}).get(CRON_CHECK)
        if self.cron is not None and check is not None:
            check(self.cron, self.timezone)
        return self


class Filter(Strict):
    """A structured filter ``column op value``; never free SQL."""

    column: str
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"] = "="
    value: Any = None

    def predicate(self) -> Predicate:
        value = tuple(self.value) if isinstance(self.value, list) else self.value
        return Predicate(column=self.column, op=self.op, value=value)


class MonitorConfig(Strict):
    """Fields every monitor has. Each check kind extends this with its own thresholds."""

    #: Capability flags the warehouse must have (``SUPPORTS_*`` name -> what it lets the
    #: check do): a monitor on a warehouse without one fails config validation. Kept on the
    #: settings, not the check, so that validating a config imports no check module.
    REQUIRES: ClassVar[Mapping[str, str]] = {}
    #: True: what this kind finds is named in other monitors' events (a table's writer's
    #: latest run), so in a pass its monitors run, and commit, before the others.
    RUNS_FIRST: ClassVar[bool] = False

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Unique, used in tags.")
    kind: str = Field(description="The check to run: freshness, schema, contract, ...")
    warehouse: str = Field(description="Name of a warehouse under `warehouses:`.")
    description: str = ""
    schedule: Schedule = Field(default_factory=lambda: Schedule(every=timedelta(hours=1)))
    owner: str | None = Field(None, description="Team (under ownership.teams) to notify.")
    tags: tuple[str, ...] = Field((), description="Extra low-cardinality tags (key:value).")
    timeout: Duration | None = Field(None, description=(
        "The longest one run of this monitor may take; its statement is then cancelled and "
        "the result is ERROR with reason CHECK_TIMEOUT. Default: daemon.timeout."))
    recover_after: int | None = Field(None, ge=1, le=100, description=(
        "Clean runs in a row that resolve an open alert. Default: alerting.recover_after."))
    models: tuple[str, ...] = Field((), description=(
        "The models (under ownership.models) this monitor is about, e.g. a drift monitor "
        "filtered to one model's rows; its alerts go to their owners only. Default: every "
        "model that reads the monitor's tables."))

    def watched_tables(self) -> tuple[str, ...]:
        """Tables this monitor reads (used to route alerts to the models that read them)."""
        names = [getattr(self, "table", None), *(getattr(self, "tables", None) or ())]
        return tuple(n for n in names if isinstance(n, str))


class WarehouseConfig(Strict):
    """One warehouse: its adapter type and the adapter's own settings."""

    type: str
    settings: dict[str, Any] = Field(default_factory=dict)


class Team(Strict):
    """A team and the Datadog handles that reach it (``@slack-chan``, ``@pagerduty-svc``)."""

    datadog: tuple[str, ...] = ()
    description: str = ""


class ModelRead(Strict):
    """A table a model reads, and the columns it uses (all columns when omitted)."""

    table: str
    columns: tuple[str, ...] = ()
    warehouse: str | None = None


def _listed(value: Any) -> Any:
    """``{column: value}`` or ``{column: [values]}``: every value as a list of text."""
    if isinstance(value, dict):
        return {k: [str(x) for x in (v if isinstance(v, list | tuple) else [v])]
                for k, v in value.items()}
    return value


Privilege = Literal["select", "insert", "update", "delete"]


class Principal(Strict):
    """A role, user or service account that must keep ``needs`` on some tables."""

    name: str = Field(min_length=1, description="Role or user name, as the warehouse spells it.")
    needs: tuple[Privilege, ...] = Field(("select",), min_length=1, description=(
        "Privileges it must keep: select, insert, update, delete."))


class MLModel(Strict):
    """A production model, its owning team, what it reads, and which groups of a grouped
    monitor are it."""

    team: str
    reads: tuple[ModelRead, ...] = ()
    description: str = ""
    principals: tuple[Principal, ...] = Field((), description=(
        "Roles or users the model's pipeline or serving runs as, each with the privileges "
        "it needs on every table the model reads, e.g. [{name: churn_svc, needs: [select]}]; "
        "a `kind: access` monitor without principals of its own checks them."))
    match: Annotated[dict[str, tuple[str, ...]], BeforeValidator(_listed)] = Field(
        default_factory=dict, description=(
            "Group values that are this model, per group column, e.g. {model_version: "
            "[v4, v5]}. Without it, a group whose value is the model's name is the model."))


class Ownership(Strict):
    teams: dict[str, Team] = Field(default_factory=dict)
    models: dict[str, MLModel] = Field(default_factory=dict)


class StateConfig(Strict):
    url: str | None = Field(None, description="SQLAlchemy URL; default sqlite .watchdog/state.db")


class DaemonConfig(Strict):
    workers: int = Field(4, ge=1, le=64, description=(
        "Monitors that may run at once (the daemon's workers, and run --once's)."))
    timeout: Duration = Field(timedelta(minutes=10), description=(
        "Default `timeout` of a monitor's run."))
    shutdown_grace: Duration = Field(timedelta(seconds=20), description=(
        "On SIGTERM, how long running checks may still finish before they are cancelled "
        "(a cancelled run leaves no trace and runs again at the next start)."))
    misfire_grace: Duration = Field(timedelta(minutes=5))
    heartbeat: Duration = Field(timedelta(minutes=1), description="watchdog.up interval.")
    leader_lease: Duration = Field(timedelta(minutes=2), description=(
        "Daemons sharing one state store elect one to run the monitors; the others stand "
        "by and take over within this long after the leader stops renewing."))


class Calendar(Strict):
    """Days unlike the others, left out of baselines and not judged: explicit dates, and a
    country's public holidays (and its regions', e.g. US + CA) from the `holidays` package."""

    dates: tuple[date, ...] = Field((), description="Dates (UTC days).")
    country: str | None = Field(None, description="ISO 3166 country code, e.g. US, DE.")
    subdivisions: tuple[str, ...] = Field((), description="Regions of the country, e.g. CA.")

    @pydantic.model_validator(mode="after")
    def _known(self) -> Calendar:
        if self.country is None:
            if self.subdivisions:
                raise ValueError("subdivisions need a country")
            return self
        import holidays

        supported = holidays.list_supported_countries()
        if self.country not in supported:
            import difflib

            close = difflib.get_close_matches(self.country.upper(), list(supported), n=1)
            raise ValueError(f"unknown country {self.country!r}" + (
                f" (did you mean {close[0]}?)" if close else ""))
        unknown = [s for s in self.subdivisions if s not in supported[self.country]]
        if unknown:
            raise ValueError(f"unknown subdivisions of {self.country}: {unknown}; choose "
                             f"from {', '.join(supported[self.country])}")
        return self

    def days(self, first: date, last: date) -> set[date]:
        """The calendar's days from ``first`` to ``last`` (inclusive)."""
        out = {d for d in self.dates if first <= d <= last}
        if self.country is not None:
            import holidays

            years = list(range(first.year, last.year + 1))
            for region in self.subdivisions or (None,):
                found = holidays.country_holidays(self.country, subdiv=region, years=years)
                out |= {d for d in found if first <= d <= last}
        return out


def _calendar(value: Any) -> Any:
    """A list of dates is a calendar of those dates."""
    return {"dates": value} if isinstance(value, list | tuple) else value


Holidays = Annotated[Calendar, BeforeValidator(_calendar)]


class AlertingConfig(Strict):
    """How alerts open and resolve."""

    recover_after: int = Field(2, ge=1, le=100, description=(
        "Clean runs in a row that resolve an open alert (one blip does not flap it)."))


class DemoConfig(Strict):
    """``watchdog demo`` builds the demo data into this (DuckDB) warehouse's file."""

    warehouse: str


#: Airflow's own rule for DAG and task ids (``KEY_REGEX`` of its ``validate_key``)
_AIRFLOW_ID = re.compile(r"^[\w.-]{1,250}$")


class AirflowSource(Strict):
    """An Airflow deployment, read through its stable REST API: ``/api/v2`` (Airflow 3) with
    ``apache-airflow-client``, or ``/api/v1`` (Airflow 2.7.1+) over plain HTTP.
    Authenticate with ``token`` (a bearer token) or ``username`` and ``password`` (basic)."""

    type: Literal["airflow"]
    #: The tool records which job writes which table (else only `pipelines.writes` says).
    RECORDS_WRITES: ClassVar[bool] = False
    url: str = Field(description=(
        "Base URL of the Airflow webserver/API server, e.g. https://airflow.example.com."))
    api_version: Literal[1, 2] = Field(2, description=(
        "2: Airflow 3's /api/v2 (extra `airflow`); 1: Airflow 2's /api/v1 (2.7.1 or later; "
        "no extra needed)."))
    token: pydantic.SecretStr | None = Field(None, description=(
        "Bearer token, e.g. ${AIRFLOW_TOKEN}."))
    username: str | None = Field(None, description="User for basic auth.")
    password: pydantic.SecretStr | None = Field(None, description=(
        "Password for basic auth, e.g. ${AIRFLOW_PASSWORD}."))
    timeout: Duration = Field(timedelta(seconds=30), description="Timeout of each API call.")
    verify_ssl: bool = Field(True, description="Check the server's TLS certificate.")
    runs: int = Field(25, ge=1, le=100, description=(
        "DAG runs read per job on each poll, newest first (also the history of finish times "
        "that lateness is learned from)."))

    @property
    def reader(self) -> str:
        """The name of its reader in ``watchdog.pipelines.READERS``."""
        return "airflow" if self.api_version == 2 else "airflow_v1"

    @staticmethod
    def job_problem(job: str) -> str | None:
        """What is wrong with a job reference ``dag_id`` or ``dag_id/task_id``, or None."""
        parts = job.split("/")
        if len(parts) > 2 or not all(_AIRFLOW_ID.match(p) for p in parts):
            return ("write dag_id or dag_id/task_id, each of letters, digits, '_', '.' and "
                    "'-' (Airflow's ids)")
        return None

    @pydantic.field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("start the URL with http:// or https://")
        return url

    @pydantic.model_validator(mode="after")
    def _auth(self) -> AirflowSource:
        if self.token is not None and (self.username or self.password):
            raise ValueError("give either 'token' or 'username' and 'password', not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("basic auth needs both 'username' and 'password'")
        return self


class DbtSource(Strict):
    """A dbt project's artifacts: ``run_results.json`` and ``manifest.json`` of its last run."""

    type: Literal["dbt"]
    RECORDS_WRITES: ClassVar[bool] = True
    target: str = Field(description=(
        "Folder holding run_results.json and manifest.json (dbt's target/), relative to "
        "config.yaml; or the URL of such a folder: http(s)://, s3://bucket/prefix "
        "(extra `s3`) or gs://bucket/prefix (extra `gcs`)."))
    warehouse: str | None = Field(None, description=(
        "The warehouse (under `warehouses:`) whose tables the models write. Default: all."))
    timeout: Duration = Field(timedelta(seconds=30), description=(
        "Timeout of each download, when `target` is a URL."))
    endpoint_url: str | None = Field(None, description=(
        "s3:// only: the endpoint of an S3-compatible store (MinIO, Cloudflare R2). "
        "Credentials come from the AWS default chain (environment, profile, role)."))

    @pydantic.model_validator(mode="after")
    def _target(self) -> DbtSource:
        scheme = self.target.partition("://")[0].lower() if "://" in self.target else ""
        if scheme and scheme not in ("http", "https", "s3", "gs"):
            raise ValueError(f"target: {scheme}:// is not read; use a folder, http(s)://, "
                             "s3:// or gs://")
        if scheme in ("s3", "gs") and not self.target.partition("://")[2].strip("/"):
            raise ValueError(f"target: name the bucket: {scheme}://bucket/prefix")
        if self.endpoint_url is not None and scheme != "s3":
            raise ValueError("endpoint_url is for an s3:// target only")
        return self


    @property
    def reader(self) -> str:
        """The name of its reader in ``watchdog.pipelines.READERS``."""
        return "dbt"

    @staticmethod
    def job_problem(job: str) -> str | None:
        """What is wrong with a job reference (a model's name), or None."""
        return "a dbt model's name has no '/'" if "/" in job else None


PipelineSource = Annotated[AirflowSource | DbtSource, Field(discriminator="type")]


class PipelineWrites(Strict):
    """Which job writes which tables (dbt's own models need no entry: the manifest says)."""

    source: str = Field(description="A name under pipelines.sources.")
    job: str = Field(min_length=1, description=(
        "Airflow: dag_id, or dag_id/task_id for the task that writes (ids keep their "
        "dots: team.features/group.compute); dbt: the model's name."))
    tables: tuple[str, ...] = Field(min_length=1, description="Tables it writes.")
    warehouse: str | None = Field(None, description="Warehouse of those tables. Default: any.")


class PipelinesConfig(Strict):
    """Orchestrators and transformation tools whose runs write the watched tables."""

    sources: dict[str, PipelineSource] = Field(default_factory=dict)
    writes: tuple[PipelineWrites, ...] = ()

    @pydantic.model_validator(mode="after")
    def _known_sources(self) -> PipelinesConfig:
        for i, w in enumerate(self.writes):
            if w.source not in self.sources:
                import difflib

                close = difflib.get_close_matches(w.source, list(self.sources), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else (
                    f"; define it under pipelines.sources (have: {', '.join(self.sources)})"
                    if self.sources else "; define it under pipelines.sources")
                raise ValueError(f"writes[{i}].source {w.source!r} is not a source{hint}")
            problem = self.sources[w.source].job_problem(w.job)
            if problem:
                raise ValueError(f"writes[{i}].job {w.job!r}: {problem}")
        return self


def _default_sinks() -> dict[str, dict[str, Any]]:
    return {"console": {}}


class Config(Strict):
    """The whole validated configuration."""

    env: str = Field("dev", description="Tagged as env:<value> on everything sent.")
    warehouses: dict[str, WarehouseConfig]
    monitors: tuple[MonitorConfig, ...] = ()
    ownership: Ownership = Field(default_factory=Ownership)
    sinks: dict[str, dict[str, Any]] = Field(default_factory=_default_sinks)
    state: StateConfig = Field(default_factory=StateConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    demo: DemoConfig | None = None
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    holidays: Holidays | None = Field(None, description=(
        "Days left out of every volume monitor's baselines and judgement (a monitor's own "
        "`holidays` replaces this)."))
    pipelines: PipelinesConfig = Field(default_factory=PipelinesConfig, description=(
        "Airflow and dbt runs that write the watched tables (`kind: pipeline` monitors)."))
    contracts: str = Field("contracts", description="Folder of data contracts, relative to "
                           "this file; each contract in it is a monitor.")
    secrets: tuple[str, ...] = Field((), exclude=True, repr=False)
    source: str = Field("config.yaml", exclude=True)

    def monitor(self, monitor_id: str) -> MonitorConfig:
        for m in self.monitors:
            if m.id == monitor_id:
                return m
        from watchdog.errors import UnknownName

        raise UnknownName("monitor", monitor_id, [m.id for m in self.monitors])
