"""Redshift IAM authentication on the wire: redshift_connector asks a loopback Redshift API
(``api_endpoint``) for temporary credentials with a SigV4-signed GetClusterCredentials, then
logs in over real TLS (verify-ca against a throwaway CA) as the ``IAM:`` user the API named,
through the loopback proxy to the local PostgreSQL."""

from __future__ import annotations

import logging
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

pytest.importorskip("redshift_connector")

from tests.conftest import POSTGRES_URL
from tests.warehouses.standins.pgproxy import pg_proxy
from tests.warehouses.standins.redshift_backend import throwaway_database
from tests.warehouses.standins.tls import server_context
from watchdog.errors import ConfigError, WarehouseAuthError
from watchdog.models import TableRef
from watchdog.warehouses import create

pytestmark = pytest.mark.postgres
KEY_ID, SECRET = "AKIDWATCHDOGTEST", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
TEMP_PASSWORD = "AskTemp-Pa55-" + uuid.uuid4().hex[:8]
CREDENTIALS = """<GetClusterCredentialsResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/">
  <GetClusterCredentialsResult><DbUser>IAM:{user}</DbUser><DbPassword>{password}</DbPassword>
  <Expiration>2030-01-01T00:00:00Z</Expiration></GetClusterCredentialsResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</GetClusterCredentialsResponse>"""
DENIED = """<ErrorResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/w is \
not authorized to perform: redshift:GetClusterCredentials</Message></Error>
  <RequestId>r-2</RequestId></ErrorResponse>"""
UNKNOWN_DOMAIN = """<ErrorResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/">
  <Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>Custom domain name \
not found</Message></Error><RequestId>r-3</RequestId></ErrorResponse>"""
#: The driver first looks for a custom domain name of the cluster: there is none.
NO_DOMAINS = """<DescribeCustomDomainAssociationsResponse \
xmlns="http://redshift.amazonaws.com/doc/2012-12-01/">
  <DescribeCustomDomainAssociationsResult><Associations/></DescribeCustomDomainAssociationsResult>
  <ResponseMetadata><RequestId>r-0</RequestId></ResponseMetadata>
</DescribeCustomDomainAssociationsResponse>"""


class FakeRedshiftApi:
    """The Redshift API's GetClusterCredentials (query protocol, XML), on a loopback port."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, list[str]]]] = []
        self.status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = urllib.parse.parse_qs(body)
                fake.requests.append((dict(self.headers), form))
                status = fake.status
                if form["Action"] != ["GetClusterCredentials"]:
                    text, status = NO_DOMAINS, 200
                elif "CustomDomainName" in form:  # no such custom domain: the driver retries
                    text, status = UNKNOWN_DOMAIN, 400
                elif fake.status == 200:
                    text = CREDENTIALS.format(user=form["DbUser"][0], password=TEMP_PASSWORD)
                else:
                    text = DENIED
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeRedshiftApi]:
    """AWS credentials from the environment only, and the throwaway CA trusted."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    api = FakeRedshiftApi()
    yield api
    api.server.shutdown()
    api.server.server_close()


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A database with a table, a login role for the ``IAM:`` user, and a TLS proxy to it."""
    ca, tls = server_context(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the driver trusts default certs + its CA
    user = f"wd_iam_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    url = sa.make_url(POSTGRES_URL)
    seen: list[dict[str, str]] = []
    with throwaway_database() as (database, engine), \
            pg_proxy((url.host or "127.0.0.1", url.port or 5432), tls=tls, seen=seen) as port:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE ROLE "IAM:{user}" LOGIN'))
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE public.features (id INTEGER, score DOUBLE "
                                 "PRECISION)"))
            conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "IAM:{user}"'))
        try:
            yield {"port": port, "database": database, "user": user, "seen": seen}
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP OWNED BY "IAM:{user}"'))
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP ROLE IF EXISTS "IAM:{user}"'))
    admin.dispose()


def _settings(cluster: dict[str, Any], api: FakeRedshiftApi) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": cluster["port"], "database": cluster["database"],
            "iam": True, "user": cluster["user"], "cluster_identifier": "prod",
            "region": "eu-west-1", "api_endpoint": api.url, "timeout": 5}


def test_iam_gets_temporary_credentials_then_logs_in_over_tls(
        aws: FakeRedshiftApi, cluster: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wh = create("rs", "redshift", _settings(cluster, aws))
    try:
        found = wh.columns([TableRef(schema="public", name="features")])
    finally:
        wh.close()
    assert [c.name for c in found[TableRef(schema="public", name="features")]] == ["id", "score"]
    # a host that is not *.redshift.amazonaws.com (a proxy, a VPC endpoint) is first tried
    # as a custom domain name by the driver, then by cluster_identifier
    asked = [(h, f) for h, f in aws.requests if f["Action"] == ["GetClusterCredentials"]
             and "CustomDomainName" not in f]
    assert asked  # one per new connection
    for headers, form in asked:
        assert form["ClusterIdentifier"] == ["prod"] and form["DbUser"] == [cluster["user"]]
        signature = headers["Authorization"]
        assert signature.startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
        assert "/eu-west-1/redshift/aws4_request" in signature and SECRET not in signature
    logins = [s for s in cluster["seen"] if s.get("user", "").startswith("IAM:")]
    assert logins and all(s["user"] == f"IAM:{cluster['user']}" for s in logins)
    assert all(s["tls"] == "yes" for s in cluster["seen"])
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert TEMP_PASSWORD not in logged and SECRET not in logged


def test_a_denied_credentials_request_is_a_one_line_auth_error(
        aws: FakeRedshiftApi, cluster: dict[str, Any]) -> None:
    aws.status = 403
    wh = create("rs", "redshift", _settings(cluster, aws))
    with pytest.raises(WarehouseAuthError) as info:
        wh.ping()
    message = str(info.value)
    assert "\n" not in message and SECRET not in message and KEY_ID not in message
    assert "AccessDenied" in message and "redshift:GetClusterCredentials" in message
    assert cluster["seen"] == []  # no login was tried without credentials


def test_iam_settings_need_a_user_and_tls() -> None:
    base = {"host": "h", "database": "d", "iam": True}
    with pytest.raises(ConfigError, match="needs user"):
        create("rs", "redshift", base)
    with pytest.raises(ConfigError, match="needs ssl: true"):
        create("rs", "redshift", {**base, "user": "u", "ssl": False})
    with pytest.raises(ConfigError, match="iam: true only"):
        create("rs", "redshift", {"host": "h", "database": "d", "user": "u", "password": "p",
                                  "api_endpoint": "https://x"})
