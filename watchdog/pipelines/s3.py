"""dbt artifacts in S3 (or an S3-compatible store): ``s3://bucket/prefix`` read with boto3.

One ``GetObject`` per artifact and poll, conditional on the ETag read last time (a 304
sends no body). Credentials come from the AWS default chain and are never in a message.
"""

from __future__ import annotations

from typing import Any

from watchdog.errors import MissingExtra
from watchdog.pipelines.artifacts import ArtifactFolder

#: S3 error codes → what to say (the object key's codes mean: no such artifact)
_CODES = {
    "NoSuchBucket": "bucket {bucket!r} does not exist",
    "AccessDenied": "access denied to {url} (check the AWS credentials' s3:GetObject on it)",
    "403": "access denied to {url} (check the AWS credentials' s3:GetObject on it)",
    "InvalidAccessKeyId": "the AWS access key is not known to the store",
    "SignatureDoesNotMatch": "the AWS secret key does not match its access key",
    "ExpiredToken": "the AWS session token has expired",
}
_MISSING = frozenset({"NoSuchKey", "404"})


class S3Folder(ArtifactFolder):
    """``s3://bucket/prefix``."""

    def __init__(self, source: str, target: str, timeout: float,
                 endpoint_url: str | None = None) -> None:
        super().__init__(source, target, timeout, endpoint_url)
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise MissingExtra("boto3", "s3") from exc
        self.bucket, _, prefix = self.target.partition("://")[2].partition("/")
        self.prefix = f"{prefix}/" if prefix else ""
        config = Config(connect_timeout=timeout, read_timeout=timeout,
                        retries={"total_max_attempts": 1})
        self._s3: Any = boto3.session.Session().client("s3", endpoint_url=endpoint_url,
                                                       config=config)

    def fetch(self, name: str, version: str | None) -> tuple[str, bytes | None]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        url = self.where(name)
        try:
            found = self._s3.get_object(Bucket=self.bucket, Key=self.prefix + name,
                                        **({"IfNoneMatch": version} if version else {}))
            with found["Body"] as body:
                return str(found["ETag"]), body.read()
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(exc.response.get("Error", {}).get("Code", status))
            if status == 304 and version is not None:
                return version, None
            if code in _MISSING:
                raise FileNotFoundError(url) from None
            what = _CODES.get(code, f"{url} could not be read (S3 error {code})")
            raise self.error(what.format(bucket=self.bucket, url=url)) from None
        except NoCredentialsError:
            raise self.error("no AWS credentials found", hint=(
                "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run with a "
                f"role that can read {self.target}")) from None
        except BotoCoreError as exc:
            raise self.error(f"{url} could not be read: {self._why(exc)}") from None

    def _why(self, exc: Exception) -> str:
        from botocore.exceptions import (
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
            return (f"no answer within {self.timeout} s (raise pipelines.sources."
                    f"{self.source}.timeout if the store is slow)")
        if isinstance(exc, EndpointConnectionError):
            return "cannot connect (check the endpoint, and the network to it)"
        return type(exc).__name__

    def close(self) -> None:
        self._s3.close()
