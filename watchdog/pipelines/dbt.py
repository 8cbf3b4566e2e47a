"""dbt runs from the artifacts of the last invocation: ``run_results.json`` (each model's
status and timing) and ``manifest.json`` (which relation each model writes).

Only the last invocation is on disk, so a model has at most one run here; the pipeline
check keeps the history of finish times in the state store.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchdog.config.models import DbtSource
from watchdog.errors import PipelineError
from watchdog.models import PipelineRun
from watchdog.pipelines.artifacts import open_folder
from watchdog.pipelines.base import PipelineReader

#: dbt's result statuses (models, seeds, snapshots, tests) as the states watchdog judges
_STATES = {"success": "success", "pass": "success", "warn": "success", "error": "failed",
           "fail": "failed", "runtime error": "failed", "skipped": "skipped"}
#: Node types that write a relation
_WRITERS = frozenset({"model", "seed", "snapshot"})
#: "endpoint location" → the artifact kept: a manifest of tens of MB is parsed
#: once per change, not once per poll and pipeline monitor (readers are opened per run;
#: the daemon is one process). One entry per artifact a config names.
_PARSED: dict[str, Kept] = {}
_LOCK = threading.Lock()


@dataclass(slots=True)
class Kept:
    """One artifact's version, its parse, and what was worked out from it."""

    version: str
    data: dict[str, Any]
    writes: dict[str, tuple[str, ...]] | None = None


class DbtReader(PipelineReader):
    """One dbt target folder. Each artifact is parsed once per version: a poll that finds
    it unchanged (same mtime and size, ETag, generation) reuses what was parsed."""

    source: DbtSource

    def __init__(self, name: str, source: DbtSource, base_dir: Path) -> None:
        super().__init__(name, source, base_dir)
        self.folder = open_folder(name, source.target, base_dir,
                                  source.timeout.total_seconds(), source.endpoint_url)

    def runs(self, job: str) -> list[PipelineRun]:
        results = self._load("run_results.json").data
        meta = results.get("metadata") or {}
        generated = _time(meta.get("generated_at"))
        for result in results.get("results") or ():
            uid = str(result.get("unique_id", ""))
            if job in (uid, uid.rsplit(".", 1)[-1]):
                return [self._run(uid, result, meta, generated)]
        return []

    def writes(self) -> dict[str, tuple[str, ...]]:
        """model name → ``database.schema.alias`` of the relation it builds (worked out
        once per manifest version, like its parse)."""
        kept = self._load("manifest.json")
        if kept.writes is None:
            kept.writes = _writes(kept.data)
        return dict(kept.writes)

    def _run(self, uid: str, result: dict[str, Any], meta: dict[str, Any],
             generated: datetime | None) -> PipelineRun:
        timing = result.get("timing") or ()
        started = [t for t in (_time(x.get("started_at")) for x in timing) if t is not None]
        ended = [t for t in (_time(x.get("completed_at")) for x in timing) if t is not None]
        status = str(result.get("status", "unknown"))
        state = _STATES.get(status, status)
        kind = uid.split(".", 1)[0] if "." in uid else "model"
        return PipelineRun(
            source=self.name, job=uid.rsplit(".", 1)[-1], label=f"dbt {kind} "
            f"{uid.rsplit('.', 1)[-1]}",
            run_id=str(meta.get("invocation_id") or generated or ""), state=state,
            started_at=min(started, default=None),
            finished_at=max(ended, default=generated if state in ("success", "failed",
                                                                  "skipped") else None))

    def _load(self, name: str) -> Kept:
        """The artifact as parsed from its current version (kept while it is unchanged)."""
        where = self.folder.where(name)
        key = f"{self.folder.endpoint_url or ''} {where}"  # one s3:// URL, two stores
        with _LOCK:
            known = _PARSED.get(key)
        try:
            version, raw = self.folder.fetch(name, known.version if known else None)
        except FileNotFoundError:
            raise PipelineError(f"dbt source {self.name!r}: {where} does not exist",
                                hint=f"run dbt, or point {self.folder.setting} at its "
                                     "target folder") from None
        except OSError as exc:
            raise PipelineError(f"dbt source {self.name!r}: {where} is not readable "
                                f"({type(exc).__name__}: {exc.strerror or exc})") from None
        if raw is None and known is not None:
            return known
        try:
            data = json.loads(raw or b"")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PipelineError(f"dbt source {self.name!r}: {where} is not readable JSON "
                                f"({type(exc).__name__}: {exc})") from None
        if not isinstance(data, dict):
            raise PipelineError(f"dbt source {self.name!r}: {where} is not a dbt artifact")
        kept = Kept(version=version, data=data)
        with _LOCK:
            _PARSED[key] = kept
        return kept

    def close(self) -> None:
        self.folder.close()


def _time(value: Any) -> datetime | None:
    """dbt's ISO 8601 times (``2026-12-05T03:10:00.123456Z``) as aware UTC."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _writes(manifest: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for node in (manifest.get("nodes") or {}).values():
        if node.get("resource_type") not in _WRITERS:
            continue
        if (node.get("config") or {}).get("materialized") == "ephemeral":
            continue
        parts = [node.get("database"), node.get("schema"),
                 node.get("alias") or node.get("name")]
        out[str(node["name"])] = (".".join(str(p) for p in parts if p),)
    return out
