"""dbt artifacts from a folder, an HTTP URL, S3 (moto's S3 server: the real S3 API over
loopback HTTP, read with boto3) and GCS (a loopback JSON API stand-in, read with
google-cloud-storage under STORAGE_EMULATOR_HOST): what goes over the wire, the parse kept
while an artifact is unchanged, and one-line errors naming the setting, without secrets."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.pipelines import gcs_fake
from watchdog.config.models import DbtSource
from watchdog.demo import write_dbt_artifacts
from watchdog.errors import PipelineError
from watchdog.pipelines import open_reader
from watchdog.pipelines.dbt import DbtReader

SECRET = "s3-secret-key-0123456789"


def reader(target: str, base: Path, **settings: Any) -> DbtReader:
    found = open_reader("arts", DbtSource.model_validate(
        {"type": "dbt", "target": target, **settings}), base)
    assert isinstance(found, DbtReader)
    return found


def artifacts(tmp_path: Path) -> dict[str, bytes]:
    folder = write_dbt_artifacts(tmp_path / "made", "warehouse", datetime(2026, 3, 1, 12))
    return {n: (folder / n).read_bytes() for n in ("run_results.json", "manifest.json")}


def renamed(manifest: bytes) -> bytes:
    """The manifest with ground_truth built as another relation."""
    data = json.loads(manifest)
    for node in data["nodes"].values():
        if node["name"] == "ground_truth":
            node["alias"] = "labels_v2"
    return json.dumps(data).encode()


# -- a local folder: parsed once per (mtime, size) -------------------------------------------

def test_an_unchanged_manifest_is_not_parsed_again_and_a_changed_one_is(tmp_path: Path) -> None:
    arts = artifacts(tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    for name, body in arts.items():
        (target / name).write_bytes(body)
    with reader("target", tmp_path) as first:  # one poll
        manifest = first._load("manifest.json").data
    with reader("target", tmp_path) as second:  # the next: a new reader, as each run opens
        assert second._load("manifest.json").data is manifest  # the same object: not re-parsed
        assert second.writes()["ground_truth"] == ("warehouse.main.ground_truth",)
    (target / "manifest.json").write_bytes(renamed(arts["manifest.json"]))
    with reader("target", tmp_path) as third:
        changed = third._load("manifest.json").data
        assert changed is not manifest
        assert third.writes()["ground_truth"] == ("warehouse.main.labels_v2",)
    stat = (target / "manifest.json").stat()  # same size, a new mtime: read again
    os.utime(target / "manifest.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with reader("target", tmp_path) as fourth:
        assert fourth._load("manifest.json").data is not changed


# -- HTTP: conditional GETs ------------------------------------------------------------------

class Recording(SimpleHTTPRequestHandler):
    seen: list[tuple[str, str | None, int]]
    folder: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=self.folder, **kwargs)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.seen.append((self.path, self.headers.get("If-Modified-Since"), code))
        super().send_response(code, message)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_site(tmp_path: Path) -> Iterator[tuple[str, list[tuple[str, str | None, int]]]]:
    seen: list[tuple[str, str | None, int]] = []
    handler = type("H", (Recording,), {"seen": seen, "folder": str(tmp_path / "site")})
    (tmp_path / "site" / "target").mkdir(parents=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_artifacts_are_fetched_again_only_when_modified(
        tmp_path: Path, http_site: tuple[str, list[tuple[str, str | None, int]]]) -> None:
    url, seen = http_site
    path = tmp_path / "site" / "target" / "manifest.json"
    path.write_bytes(artifacts(tmp_path)["manifest.json"])
    os.utime(path, (1_700_000_000, 1_700_000_000))
    with reader(f"{url}/target", tmp_path) as first:
        manifest = first._load("manifest.json").data
    with reader(f"{url}/target/", tmp_path) as second:
        assert second._load("manifest.json").data is manifest
    path.write_bytes(renamed(path.read_bytes()))
    os.utime(path, (1_700_000_600, 1_700_000_600))
    with reader(f"{url}/target", tmp_path) as third:
        assert third.writes()["ground_truth"] == ("warehouse.main.labels_v2",)
    since = "Tue, 14 Nov 2023 22:13:20 GMT"  # the first answer's Last-Modified, sent back
    assert seen == [("/target/manifest.json", None, 200), ("/target/manifest.json", since, 304),
                    ("/target/manifest.json", since, 200)]


# -- S3: moto's server -----------------------------------------------------------------------

@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An S3 API on a loopback port (moto's ThreadedMotoServer) and a boto3 client of it;
    the AWS settings of this test only, never the machine's."""
    from moto.server import ThreadedMotoServer

    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWATCHDOGTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    import boto3

    client = boto3.client("s3", endpoint_url=f"http://{host}:{port}")
    client.endpoint = f"http://{host}:{port}"
    try:
        yield client
    finally:
        client.close()
        server.stop()


def test_s3_artifacts_are_read_with_boto3_and_kept_while_the_etag_holds(
        tmp_path: Path, s3: Any) -> None:
    arts = artifacts(tmp_path)
    s3.create_bucket(Bucket="dbt-artifacts")
    for name, body in arts.items():
        s3.put_object(Bucket="dbt-artifacts", Key=f"prod/target/{name}", Body=body)
    target = "s3://dbt-artifacts/prod/target"
    with reader(target, tmp_path, endpoint_url=s3.endpoint) as first:
        manifest = first._load("manifest.json").data
        run, = first.runs("ground_truth")
    assert run.text() == "dbt model ground_truth failed at 10:01"
    with reader(target + "/", tmp_path, endpoint_url=s3.endpoint) as second:
        assert second._load("manifest.json").data is manifest  # 304 on its ETag: not re-parsed
    s3.put_object(Bucket="dbt-artifacts", Key="prod/target/manifest.json",
                  Body=renamed(arts["manifest.json"]))
    with reader(target, tmp_path, endpoint_url=s3.endpoint) as third:
        assert third.writes()["ground_truth"] == ("warehouse.main.labels_v2",)


def test_s3_errors_name_the_setting_and_never_the_keys(tmp_path: Path, s3: Any) -> None:
    s3.create_bucket(Bucket="dbt-artifacts")
    cases = [("s3://no-such-bucket/target", r"bucket 'no-such-bucket' does not exist"),
             ("s3://dbt-artifacts/elsewhere",
              r"s3://dbt-artifacts/elsewhere/run_results\.json does not exist")]
    for target, message in cases:
        with (reader(target, tmp_path, endpoint_url=s3.endpoint) as r,
              pytest.raises(PipelineError, match=message) as caught):
            r.runs("ground_truth")
        assert "pipelines.sources.arts.target" in str(caught.value)
        assert SECRET not in str(caught.value) and "AKIA" not in str(caught.value)


def test_s3_refused_keys_and_a_silent_store(tmp_path: Path, s3: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import settings

    s3.create_bucket(Bucket="dbt-artifacts")
    iam = boto3.client("iam", endpoint_url=s3.endpoint)
    iam.create_user(UserName="no-grants")  # a user of this store that may read nothing
    key = iam.create_access_key(UserName="no-grants")["AccessKey"]
    iam.close()
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks keys
    with (reader("s3://dbt-artifacts/t", tmp_path, endpoint_url=s3.endpoint) as r,
          pytest.raises(PipelineError, match="access key is not known") as refused):
        r.runs("ground_truth")
    assert SECRET not in str(refused.value) and "AKIA" not in str(refused.value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    with (reader("s3://dbt-artifacts/t", tmp_path, endpoint_url=s3.endpoint) as r,
          pytest.raises(PipelineError, match=r"access denied to s3://dbt-artifacts/t/run_"
                                             r"results\.json .*s3:GetObject") as denied):
        r.runs("ground_truth")
    assert key["SecretAccessKey"] not in str(denied.value)
    assert key["AccessKeyId"] not in str(denied.value)
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with (reader("s3://dbt-artifacts/t", tmp_path, endpoint_url=endpoint,
                     timeout=0.3) as r,
              pytest.raises(PipelineError, match=r"no answer within 0\.3 s")):
            r.runs("ground_truth")  # without the timeout: no answer, ever


def test_s3_without_the_extra_names_it(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from watchdog.errors import MissingExtra

    monkeypatch.setitem(sys.modules, "boto3", None)  # as if not installed
    with pytest.raises(MissingExtra, match=r"ml-watchdog\[s3\]"):
        reader("s3://bucket/target", tmp_path)


# -- GCS: the JSON API stand-in ---------------------------------------------------------------

@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[gcs_fake.FakeGcs]:
    with gcs_fake.serve(gcs_fake.FakeGcs()) as fake:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake.url)
        yield fake


def test_gcs_artifacts_are_downloaded_once_per_generation(
        tmp_path: Path, gcs: gcs_fake.FakeGcs) -> None:
    arts = artifacts(tmp_path)
    for name, body in arts.items():
        gcs.put("ml-dbt", f"prod/target/{name}", body)
    with reader("gs://ml-dbt/prod/target", tmp_path) as first:
        manifest = first._load("manifest.json").data
        run, = first.runs("ground_truth")
    assert run.text() == "dbt model ground_truth failed at 10:01"
    with reader("gs://ml-dbt/prod/target", tmp_path) as second:
        assert second._load("manifest.json").data is manifest
    gcs.put("ml-dbt", "prod/target/manifest.json", renamed(arts["manifest.json"]))
    with reader("gs://ml-dbt/prod/target", tmp_path) as third:
        assert third.writes()["ground_truth"] == ("warehouse.main.labels_v2",)
    media = "/download/storage/v1/b/ml-dbt/o/prod%2Ftarget%2F"
    first_gen = str(1_700_000_000_000_001)
    assert [(s.path, s.query.get("ifGenerationNotMatch"), s.status) for s in gcs.seen] == [
        (media + "manifest.json", None, 200),
        (media + "run_results.json", None, 200),
        (media + "manifest.json", [first_gen], 304),
        (media + "manifest.json", [first_gen], 200)]
    assert all(s.query["alt"] == ["media"] for s in gcs.seen)


def test_gcs_errors_say_which_of_bucket_object_access(tmp_path: Path,
                                                     gcs: gcs_fake.FakeGcs) -> None:
    gcs.put("ml-dbt", "prod/target/manifest.json", b"{}")
    cases = [("gs://nobucket/t", r"bucket 'nobucket' does not exist"),
             ("gs://ml-dbt/prod/elsewhere",
              r"gs://ml-dbt/prod/elsewhere/run_results\.json does not exist")]
    for target, message in cases:
        with (reader(target, tmp_path) as r,
              pytest.raises(PipelineError, match=message) as caught):
            r.runs("x")
        assert "pipelines.sources.arts.target" in str(caught.value)
    gcs.status = 403
    with (reader("gs://ml-dbt/prod/target", tmp_path) as r,
          pytest.raises(PipelineError, match=r"access denied to gs://ml-dbt/prod/target/")):
        r.writes()
    gcs.status, gcs.delay = None, 3.0  # without the timeout: an answer, after 3 s
    with (reader("gs://ml-dbt/prod/target", tmp_path, timeout=0.3) as r,
          pytest.raises(PipelineError, match=r"no answer within 0\.3 s")):
        r.writes()


@pytest.mark.parametrize(("settings", "message"), [
    ({"target": "ftp://host/t"}, "ftp:// is not read"),
    ({"target": "s3://"}, r"name the bucket: s3://bucket/prefix"),
    ({"target": "gs://b/t", "endpoint_url": "http://x"}, "for an s3:// target only")])
def test_targets_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DbtSource.model_validate({"type": "dbt", **settings})


def test_http_errors_never_show_a_password_in_the_target(
        tmp_path: Path, http_site: tuple[str, list[tuple[str, str | None, int]]]) -> None:
    """A target written with a user and password: whatever the read's failure, the error
    names the host and path, never the password."""
    url, _ = http_site
    with_password = url.replace("http://", "http://etl:S3KRET-pw@") + "/gone"
    with reader(with_password, tmp_path) as read, pytest.raises(Exception) as failed:
        read.writes()
    message = str(failed.value)
    assert "S3KRET-pw" not in message and "/gone/manifest.json" in message, message
