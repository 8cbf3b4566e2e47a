"""Snowflake authentication as sent on the wire. fakesnow accepts any credentials, so a
loopback proxy between the connector and fakesnow records each login request and the tests
assert on it: the password, the key-pair JWT (verified with the test key's public key), the
OAuth token, and the session parameters. No secret reaches an error message or a log."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fakesnow")

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.warehouses.standins.dbapi_seeder import DbApiSeeder
from tests.warehouses.standins.fakesnow_backend import snowflake_backend
from tests.warehouses.standins.snowflake_proxy import Recorder, recording_proxy
from watchdog.errors import WarehouseUnavailable
from watchdog.warehouses import create

PASSWORD = "pw-Sekr3t-7731"
TOKEN = "oauth-access-token-9d1f"
PASSPHRASE = "pass phrase 4417"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(passphrase: str | None = None) -> str:
    crypt: Any = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             crypt).decode()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DbApiSeeder, Recorder,
                                                                      dict[str, Any]]]:
    """(seeder, recorder, settings without credentials that reach fakesnow via the proxy)."""
    with snowflake_backend(tmp_path_factory.mktemp("sfauth")) as seed:
        s = seed.settings
        with recording_proxy(s["host"], s["port"]) as (port, recorder):
            base = {k: v for k, v in s.items() if k != "password"}
            yield seed, recorder, {**base, "port": port, "user": "watchdog_bot"}


def auth(kind: str, tmp_path: Path) -> dict[str, Any]:
    """The credential settings of one kind."""
    if kind == "password":
        return {"password": PASSWORD}
    if kind == "key_file":
        (tmp_path / "rsa_key.p8").write_text(pem(PASSPHRASE))
        return {"private_key_path": str(tmp_path / "rsa_key.p8"),
                "private_key_passphrase": PASSPHRASE}
    if kind == "key_text":
        return {"private_key": pem()}
    return {"token": TOKEN}


def login(recorder: Recorder, settings: dict[str, Any]) -> dict[str, Any]:
    """Connect, run a query, and return the one login request sent."""
    recorder.clear()
    with create("sf", "snowflake", settings) as wh:
        wh.ping()
    (data,) = recorder.logins()
    assert data["LOGIN_NAME"] == "watchdog_bot" and data["ACCOUNT_NAME"] == settings["account"]
    return data


def test_password_login_sends_the_password_and_the_session_parameters(
        proxied: Any, tmp_path: Path) -> None:
    _, recorder, base = proxied
    data = login(recorder, {**base, **auth("password", tmp_path)})
    assert data["PASSWORD"] == PASSWORD and "TOKEN" not in data
    assert data.get("AUTHENTICATOR", "SNOWFLAKE") == "SNOWFLAKE"
    params = data["SESSION_PARAMETERS"]
    assert params["QUERY_TAG"] == "ml-watchdog" and params["TIMEZONE"] == "UTC"
    data = login(recorder, {**base, "password": PASSWORD, "query_tag": "ml-watchdog-prod"})
    assert data["SESSION_PARAMETERS"]["QUERY_TAG"] == "ml-watchdog-prod"


@pytest.mark.parametrize("kind", ["key_file", "key_text"])
def test_key_pair_login_sends_a_jwt_signed_by_the_key(proxied: Any, tmp_path: Path,
                                                      kind: str) -> None:
    _, recorder, base = proxied
    data = login(recorder, {**base, **auth(kind, tmp_path)})
    assert data["AUTHENTICATOR"] == "SNOWFLAKE_JWT" and "PASSWORD" not in data
    public = KEY.public_key()
    claims = jwt.decode(data["TOKEN"], public, algorithms=["RS256"])
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    fingerprint = base64.b64encode(hashlib.sha256(der).digest()).decode()
    who = f"{base['account'].upper()}.WATCHDOG_BOT"
    assert claims["iss"] == f"{who}.SHA256:{fingerprint}" and claims["sub"] == who
    assert claims["exp"] > claims["iat"]
    # a JWT from another key does not verify: the check above can fail
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(data["TOKEN"], other, algorithms=["RS256"])
    assert data["SESSION_PARAMETERS"]["TIMEZONE"] == "UTC"


def test_oauth_login_sends_the_token(proxied: Any, tmp_path: Path) -> None:
    _, recorder, base = proxied
    data = login(recorder, {**base, **auth("oauth", tmp_path)})
    assert data["AUTHENTICATOR"] == "OAUTH" and data["TOKEN"] == TOKEN
    assert "PASSWORD" not in data and data["SESSION_PARAMETERS"]["QUERY_TAG"] == "ml-watchdog"


@pytest.mark.parametrize("kind", ["password", "key_file", "key_text", "oauth"])
def test_no_secret_reaches_an_error_or_a_log(proxied: Any, tmp_path: Path, kind: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    _, recorder, base = proxied
    creds = auth(kind, tmp_path)
    given = (tmp_path / "rsa_key.p8").read_text() if kind == "key_file" else pem()
    secrets = [PASSWORD, TOKEN, PASSPHRASE, *pem().splitlines()[1:-1],
               *given.splitlines()[1:-1]]
    caplog.set_level(logging.DEBUG)
    login(recorder, {**base, **creds})
    sent = recorder.logins()[0]
    secrets.append(sent.get("TOKEN") or sent.get("PASSWORD"))  # the JWT too
    unreachable = {**base, **creds, "port": 1, "login_timeout": 2}
    with create("sf", "snowflake", unreachable) as wh, \
            pytest.raises(WarehouseUnavailable) as err:
        wh.ping()
    message = str(err.value)
    assert "\n" not in message
    assert "cannot connect" in message and "settings.account" in message, message
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) > 20  # the connector logs at DEBUG: the check below reads them
    for secret in secrets:
        assert secret not in message
        assert not [m for m in logged if secret in m], secret[:12]


def test_each_statement_asks_snowflake_to_stop_it_at_the_deadline(
        proxied: Any, tmp_path: Path) -> None:
    """Under a monitor's deadline, every query request carries the seconds left as the
    statement's STATEMENT_TIMEOUT_IN_SECONDS: Snowflake itself cancels it then."""
    from watchdog.timeouts import Deadline, applied

    _, recorder, base = proxied
    recorder.clear()
    with create("sf", "snowflake", {**base, **auth("password", tmp_path)}) as wh:
        wh.ping()  # no deadline: no statement timeout
        with applied(Deadline("m", 42)):
            wh.ping()
    untimed, timed = [s.body for s in recorder.sent if s.path.endswith("query-request")][-2:]
    assert "STATEMENT_TIMEOUT_IN_SECONDS" not in (untimed.get("parameters") or {})
    assert timed["parameters"]["STATEMENT_TIMEOUT_IN_SECONDS"] in (41, 42)
