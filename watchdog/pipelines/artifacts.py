"""Where a dbt target folder lives: a local folder, an http(s) URL, ``s3://bucket/prefix`` or
``gs://bucket/prefix``; each read is conditional on the version read last time.

``fetch(name, version)`` answers the artifact's version (a file's mtime and size, an HTTP
ETag or Last-Modified, an S3 ETag, a GCS generation) and its bytes, or ``None`` for the
bytes when the version is still the one given: the caller keeps what it parsed from it.
A missing artifact is ``FileNotFoundError``; anything else that stops the read is a
one-line ``PipelineError`` naming ``pipelines.sources.<name>.target``, never a credential.
"""

from __future__ import annotations

import abc
import importlib
from pathlib import Path

from watchdog.errors import PipelineError

#: URL scheme → "module:Class" of its folder, imported only when a target uses it
SCHEMES: dict[str, str] = {
    "http": "watchdog.pipelines.artifacts:HttpFolder",
    "https": "watchdog.pipelines.artifacts:HttpFolder",
    "s3": "watchdog.pipelines.s3:S3Folder",
    "gs": "watchdog.pipelines.gcs:GcsFolder",
}


class ArtifactFolder(abc.ABC):
    """One dbt target folder. ``source`` names the setting in errors; every call that
    leaves the machine has ``timeout`` seconds; ``endpoint_url`` is an S3-compatible
    store's (MinIO, R2), for S3 only."""

    def __init__(self, source: str, target: str, timeout: float,
                 endpoint_url: str | None = None) -> None:
        self.source, self.target, self.timeout = source, target.rstrip("/"), timeout
        self.endpoint_url = endpoint_url

    @property
    def setting(self) -> str:
        return f"pipelines.sources.{self.source}.target"

    def where(self, name: str) -> str:
        """The artifact's location, as errors and the parse cache name it."""
        return f"{self.target}/{name}"

    @abc.abstractmethod
    def fetch(self, name: str, version: str | None) -> tuple[str, bytes | None]:
        """The artifact's version, and its bytes unless the version is ``version``."""

    def close(self) -> None:
        """Release connections (nothing by default)."""
        return None

    def error(self, what: str, hint: str | None = None) -> PipelineError:
        return PipelineError(f"dbt source {self.source!r}: {what}",
                             hint=hint or f"check {self.setting}")


def open_folder(source: str, target: str, base_dir: Path, timeout: float,
                endpoint_url: str | None = None) -> ArtifactFolder:
    """The folder that ``target`` names (relative paths are relative to ``base_dir``)."""
    scheme = target.partition("://")[0].lower() if "://" in target else ""
    if not scheme:
        return LocalFolder(source, str(base_dir / target), timeout)
    module, _, cls = SCHEMES[scheme].partition(":")
    folder: type[ArtifactFolder] = getattr(importlib.import_module(module), cls)
    return folder(source, target, timeout, endpoint_url)


class LocalFolder(ArtifactFolder):
    """A folder on this machine; the version is the file's mtime (ns) and size."""

    def fetch(self, name: str, version: str | None) -> tuple[str, bytes | None]:
        path = Path(self.target) / name
        stat = path.stat()  # FileNotFoundError: the caller says which setting to fix
        now = f"{stat.st_mtime_ns}:{stat.st_size}"
        return (now, None) if now == version else (now, path.read_bytes())


class HttpFolder(ArtifactFolder):
    """A folder served over HTTP(S): a conditional GET (If-None-Match with the ETag, else
    If-Modified-Since with the Last-Modified of the last read) that a 304 answers."""

    def fetch(self, name: str, version: str | None) -> tuple[str, bytes | None]:
        import urllib.error
        import urllib.request

        url = self.where(name)
        request = urllib.request.Request(url)
        kind, _, value = (version or "").partition(" ")
        if kind == "etag":
            request.add_header("If-None-Match", value)
        elif kind == "modified":
            request.add_header("If-Modified-Since", value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                body: bytes = r.read()
                etag, modified = r.headers.get("ETag"), r.headers.get("Last-Modified")
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 304 and version is not None:
                return version, None
            if exc.code == 404:
                raise FileNotFoundError(url) from None
            raise self.error(f"{url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise self.error(f"{url} could not be read ({type(exc).__name__})") from None
        now = f"etag {etag}" if etag else f"modified {modified}" if modified else "none"
        return now, body
