"""What a pipeline reader is: the runs of one job, newest first, and the tables each job
writes where the tool itself records it (dbt's manifest)."""

from __future__ import annotations

import abc
from pathlib import Path
from types import TracebackType
from typing import Any

from watchdog.models import PipelineRun


class PipelineReader(abc.ABC):
    """Reads one source under ``pipelines.sources``. Every remote call has a timeout."""

    def __init__(self, name: str, source: Any, base_dir: Path) -> None:
        self.name, self.source, self.base_dir = name, source, base_dir

    @abc.abstractmethod
    def runs(self, job: str) -> list[PipelineRun]:
        """The job's recent runs, newest first (none: it never ran, or is unknown)."""

    def writes(self) -> dict[str, tuple[str, ...]]:
        """job → the tables it writes, as the tool records them; {} when it does not."""
        return {}

    def close(self) -> None:
        """Release connections (nothing by default)."""
        return None

    def __enter__(self) -> PipelineReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
