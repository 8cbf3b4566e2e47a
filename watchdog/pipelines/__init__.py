"""Readers of the runs of the jobs that write tables (Airflow, dbt), behind one interface.

``open_reader`` picks the reader of a source's ``type`` from a plain table and imports it
lazily, so that a config without Airflow never imports ``apache-airflow-client``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from watchdog.config.models import PipelineSource
from watchdog.errors import UnknownName
from watchdog.pipelines.base import PipelineReader

#: reader (a source's type, and its API version) → "module:Class"
READERS: dict[str, str] = {
    "airflow": "watchdog.pipelines.airflow:AirflowReader",
    "airflow_v1": "watchdog.pipelines.airflow_v1:AirflowV1Reader",
    "dbt": "watchdog.pipelines.dbt:DbtReader",
}

__all__ = ["READERS", "PipelineReader", "open_reader"]


def open_reader(name: str, source: PipelineSource, base_dir: Path) -> PipelineReader:
    """The reader of source ``name`` (relative paths in it are relative to ``base_dir``)."""
    if source.reader not in READERS:
        raise UnknownName("pipeline source type", source.type, READERS)
    module, _, cls = READERS[source.reader].partition(":")
    reader: type[PipelineReader] = getattr(importlib.import_module(module), cls)
    return reader(name, source, base_dir)
