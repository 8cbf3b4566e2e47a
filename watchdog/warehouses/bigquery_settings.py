"""The BigQuery adapter's settings (kept apart from ``bigquery.py``, which imports the client)."""

from __future__ import annotations

import pydantic

from watchdog.warehouses.base import WarehouseSettings

GIB = 1024**3
MIB = 1024**2
class BigQuerySettings(WarehouseSettings):
    """Which project to bill, how to authenticate, where the API is, and the cost caps."""

    project: str
    """Project that runs (and pays for) the query jobs; also the project of tables named
    ``dataset.table``."""

    location: str = "US"
    """Location of the datasets (``US``, ``EU``, ``europe-west1``, ...): where jobs run and
    which ``region-<location>`` JOBS view the audit log reads."""

    credentials_file: str | None = None
    """Path of a service-account JSON key. Unset (with ``credentials_info`` unset):
    application-default credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud, or the
    metadata server on GCP)."""

    credentials_info: pydantic.SecretStr | None = None
    """The service-account JSON key itself; write ``${ENV_VAR}`` rather than the value."""

    anonymous: bool = False
    """Send no credentials: only for a local stand-in, or a proxy that authenticates."""

    api_endpoint: str | None = None
    """Base URL of the BigQuery REST API instead of ``https://bigquery.googleapis.com``: a
    Private Service Connect endpoint (``https://bigquery-<psc>.p.googleapis.com``), a proxy,
    or a local stand-in."""

    max_bytes_billed: int = pydantic.Field(10 * GIB, ge=10 * MIB)
    """``maximumBytesBilled`` of every job: BigQuery fails a job that would bill more. At
    least 10 MiB, the minimum an INFORMATION_SCHEMA query bills."""

    dry_run_budget: int | None = pydantic.Field(None, ge=0)
    """Bytes a query's dry run may estimate before watchdog refuses to run it (default:
    ``max_bytes_billed``)."""

    labels: dict[str, str] = pydantic.Field(default_factory=lambda: {"app": "ml-watchdog"})
    """Labels on every job, for billing reports (keys and values: lower case, <= 63 chars)."""

    datasets: tuple[str, ...] = ()
    """Datasets (``dataset`` or ``project.dataset``) whose tables' last-modified times make
    the cheap change probe of the schema monitor; empty: no probe, every poll fingerprints."""

    sample_percent: float | None = pydantic.Field(None, gt=0, le=100)
    """Read only this share of a table's storage blocks when sampling rows (``TABLESAMPLE
    SYSTEM``), to bill less; unset: sample from the whole table."""

    audit_days: int = pydantic.Field(7, ge=1, le=180)
    """How far back the audit log is read at most (JOBS keeps 180 days)."""

    audit_lookback_hours: int = pydantic.Field(24, ge=1, le=24 * 180)
    """How far back the access check looks for the REVOKE behind a lost privilege; bounds
    that scan of JOBS."""

    timeout: float = pydantic.Field(120.0, gt=0)
    """Seconds for one API call and for a query to finish, retries included."""

    @pydantic.model_validator(mode="after")
    def _one_credential(self) -> BigQuerySettings:
        given = [self.credentials_file is not None, self.credentials_info is not None,
                 self.anonymous]
        if sum(given) > 1:
            raise ValueError("give at most one of credentials_file, credentials_info, anonymous")
        return self

    @property
    def budget(self) -> int:
        """The dry-run budget in bytes."""
        return self.max_bytes_billed if self.dry_run_budget is None else self.dry_run_budget
