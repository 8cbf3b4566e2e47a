"""dbt artifacts in Google Cloud Storage: ``gs://bucket/prefix`` read with
google-cloud-storage (its JSON API; ``STORAGE_EMULATOR_HOST`` points it at an emulator).

One media download per artifact and poll, conditional on the generation read last time
(``ifGenerationNotMatch``: a 304 sends no body). Credentials are Application Default
Credentials and are never in a message.
"""

from __future__ import annotations

import os
from typing import Any

from watchdog.errors import MissingExtra
from watchdog.pipelines.artifacts import ArtifactFolder


class GcsFolder(ArtifactFolder):
    """``gs://bucket/prefix``."""

    def __init__(self, source: str, target: str, timeout: float,
                 endpoint_url: str | None = None) -> None:
        super().__init__(source, target, timeout, endpoint_url)
        try:
            import google.cloud.storage as storage
        except ImportError as exc:
            raise MissingExtra("google-cloud-storage", "gcs") from exc
        self.bucket_name, _, prefix = self.target.partition("://")[2].partition("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self._storage = storage
        self._client: Any = None

    def _bucket(self) -> Any:
        from google.auth.exceptions import DefaultCredentialsError

        if self._client is None:
            # google-cloud-storage 3.x fetches each bucket's metadata in a background thread,
            # for tracing attributes only: a storage.buckets.get call outside our timeout (its
            # own is 10 s) on every new client. This, its switch, turns that off.
            os.environ.setdefault("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")
            try:
                self._client = self._storage.Client()
            except DefaultCredentialsError:
                raise self.error("no Google credentials found", hint=(
                    "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or "
                    f"run where Application Default Credentials can read {self.target}"
                )) from None
        return self._client.bucket(self.bucket_name)

    def fetch(self, name: str, version: str | None) -> tuple[str, bytes | None]:
        from google.api_core import exceptions as gexc
        from google.auth.exceptions import GoogleAuthError
        from requests import exceptions as rexc

        url = self.where(name)
        bucket = self._bucket()
        blob = bucket.blob(self.prefix + name)
        try:
            body: bytes = blob.download_as_bytes(
                if_generation_not_match=int(version) if version else None,
                timeout=self.timeout, retry=None)
            return str(blob.generation), body
        except gexc.NotModified:
            return str(version), None
        except gexc.NotFound:
            if self._bucket_exists(bucket):
                raise FileNotFoundError(url) from None
            raise self.error(f"bucket {self.bucket_name!r} does not exist") from None
        except (gexc.Forbidden, gexc.Unauthorized):
            raise self.error(f"access denied to {url} (check the credentials' "
                             "storage.objects.get on it)") from None
        except gexc.GoogleAPICallError as exc:
            raise self.error(f"{url} could not be read (HTTP {exc.code})") from None
        except rexc.Timeout:
            raise self.error(f"{url} could not be read: no answer within {self.timeout} s "
                             f"(raise pipelines.sources.{self.source}.timeout if GCS is "
                             "slow)") from None
        except rexc.ConnectionError:
            raise self.error(f"{url} could not be read: cannot connect") from None
        except GoogleAuthError:
            raise self.error(f"{url} could not be read: the Google credentials were "
                             "refused") from None

    def _bucket_exists(self, bucket: Any) -> bool:
        """After a 404: was it the object (True) or the bucket (False)? One more call."""
        from google.api_core import exceptions as gexc

        try:
            return bool(bucket.exists(timeout=self.timeout, retry=None))
        except gexc.GoogleAPICallError:
            return True  # cannot tell: say the artifact is missing, as the 404 did

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
