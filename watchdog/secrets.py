"""Secret values, and the one place that scrubs them from what watchdog prints, logs and sends.

A process-wide registry holds every value that must never be shown: everything the config
loader interpolated from ``${ENV}``, every value of a settings field named like a credential
(``password``, ``token``, ``api_key``, ``private_key_passphrase``, …), and the password part
of every URL in the config (read robustly, even with an unescaped ``@`` or ``:`` in it).
The config loader and the settings validators register them; the boundaries scrub them:

- :func:`scrub` for error text and log records: the registry plus credential-looking
  patterns (``password=…``, ``scheme://user:…@host``);
- :func:`scrub_known` for prose that may legitimately say ``token: 3`` (console output,
  event text): the registry and URL credentials only;
- :func:`scrub_value` for events and results: :func:`scrub_known` on every string inside a
  dataclass, mapping or sequence, except identifiers (names, tags, keys) the config chose;
- :class:`ScrubFilter` on the root logging handler, which formats the record first, so an
  exception's text and traceback are scrubbed too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, unquote

T = TypeVar("T")

#: What a secret is replaced with.
MASK = "***"
#: Shorter values are not registered: masking every "ab" would garble the text around it.
MIN_LENGTH = 3

#: A settings field whose name matches holds a credential (``api_key``, ``db_password``, …);
#: a path to one (``private_key_path``, ``credentials_file``) does not.
_SECRET_NAME = re.compile(r"(?i)pass(word|wd|phrase)?|pwd|token|secret|key|credential")
_NOT_SECRET_NAME = re.compile(r"(?i)(_path|_file|_id)$")

# key=value / key: value pairs whose key smells like a secret (error text and logs only)
_SECRET_PAIR = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|app[_-]?key|private[_-]?key)"
    r"(\s*[=:]\s*)('[^']*'|\"[^\"]*\"|[^\s,;&]+)"
)
# credentials inside a URL in free text: scheme://user:secret@host, up to the last @ of the
# URL (a password may hold an unescaped @)
_URL_IN_TEXT = re.compile(r"(://[^:/@\s]*:)(\S+)(@)")
# the start of a URL with a password: scheme://user:
_URL_HEAD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^:/@?#\s]*:")

#: Fields and keys that name things the config chose (monitor ids, tables, tags, metric
#: names): scrub_value leaves them as they are, so series and alert keys stay stable.
IDENTIFIERS = frozenset({
    "aggregation_key", "alert_type", "dedup_key", "kind", "metric_type", "monitor_id", "name",
    "priority", "reason", "reasons", "source_type_name", "status", "subject", "tags", "type",
    "warehouse",
})


class _Registry:
    """The secret values of this process, and one compiled pattern that finds any of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: Iterable[str]) -> None:
        new = {v for v in values if len(v) >= MIN_LENGTH} - self._values
        if new:
            with self._lock:
                self._values |= new
                self._pattern = None

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def values(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._values, key=len, reverse=True))

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # longest first: a secret that contains another is masked whole
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            return self._pattern


_REGISTRY = _Registry()


def register(*values: object) -> None:
    """Never show these values (and their URL-encoded forms, and the credentials inside a
    URL or a JSON object among them) again. Values shorter than MIN_LENGTH are ignored."""
    found: list[str] = []
    for value in values:
        if value is None:
            continue
        text = _plain(value)
        found += _forms(text)
        password = url_password(text)
        if password is not None:
            found += _forms(password)
        if text.lstrip().startswith("{"):
            with contextlib.suppress(ValueError):  # not JSON: the value alone is the secret
                register_config(json.loads(text))
    _REGISTRY.add(found)


def register_config(data: Any) -> None:
    """Register the secrets in parsed config data: every value under a credential-like key,
    and the password of every URL anywhere in it."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if is_secret_name(str(key)) and isinstance(value, str | int | float):
                register(value)
            else:
                register_config(value)
    elif isinstance(data, list | tuple):
        for item in data:
            register_config(item)
    elif isinstance(data, str) and (password := url_password(data)) is not None:
        register(password)


def register_model(model: Any) -> None:
    """Register the secrets of a validated settings model: its ``SecretStr`` fields (also
    those filled from the environment, e.g. ``DD_API_KEY``) and credential-named fields."""
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        if hasattr(value, "get_secret_value") or is_secret_name(name) and isinstance(value, str):
            register(value)
        else:
            register_config(value)  # the password of a URL


def is_secret_name(name: str) -> bool:
    """Whether a settings field called ``name`` holds a credential."""
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def known() -> tuple[str, ...]:
    """The registered values, longest first."""
    return _REGISTRY.values()


def reset() -> None:
    """Forget every registered value (for tests: one process runs many configs)."""
    _REGISTRY.clear()


def _plain(value: object) -> str:
    get = getattr(value, "get_secret_value", None)
    return str(get() if callable(get) else value)


def _forms(text: str) -> list[str]:
    """A value as it may appear: verbatim, URL-encoded, URL-decoded."""
    return list({text, quote(text, safe=""), unquote(text)})


# -- URLs ------------------------------------------------------------------------------------


def split_url(url: str) -> tuple[str, str, str] | None:
    """``(scheme://user:, password, @host...)`` of a URL with a password, else None.

    The password runs from the first ``:`` after ``scheme://user`` to the last ``@`` before
    the host, so an unescaped ``@`` or ``:`` in it is kept in the password. The host is what
    follows the last ``@``, or an earlier ``@`` whose host is followed by a path or query
    (``user:pw@host/db?opt=a@b`` keeps ``a@b`` in the query).
    """
    head = _URL_HEAD.match(url)
    if head is None:
        return None
    rest = url[head.end():]
    ats = [i for i, c in enumerate(rest) if c == "@"]
    for n, at in enumerate(ats):
        upto = ats[n + 1] if n + 1 < len(ats) else len(rest)
        if upto == len(rest) or any(c in rest[at + 1:upto] for c in "/?"):
            return url[:head.end()], rest[:at], rest[at:]
    return None


def url_password(url: str) -> str | None:
    """The (decoded) password of ``url``, or None when it has none."""
    parts = split_url(url)
    return unquote(parts[1]) if parts and parts[1] else None


def normalize_url(url: str) -> str:
    """``url`` with an unescaped ``@`` in its password percent-encoded, so that SQLAlchemy
    (which ends the password at the first ``@``) reads the password and host the user meant."""
    parts = split_url(url)
    if parts is None or "@" not in parts[1]:
        return url
    head, password, tail = parts
    return f"{head}{password.replace('@', '%40')}{tail}"


# -- scrubbing -------------------------------------------------------------------------------


def scrub_known(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and ``extra``) and URL credential masked."""
    for secret in sorted(extra, key=len, reverse=True):
        if len(secret) >= MIN_LENGTH:
            text = text.replace(secret, MASK)
    pattern = _REGISTRY.pattern()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return _URL_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """:func:`scrub_known`, and anything that looks like a credential (``password=…``,
    ``api_key: …``): for error messages and log records."""
    text = scrub_known(text, extra)
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def scrub_value(obj: T) -> T:
    """``obj`` with :func:`scrub_known` applied to every string inside it (dataclasses,
    mappings, lists, tuples), except the IDENTIFIERS fields and keys. Returns ``obj``
    itself when nothing changed."""
    if not known():
        return obj
    scrubbed: T = _scrub(obj)
    return scrubbed


def _scrub(obj: Any) -> Any:
    if isinstance(obj, str):
        return scrub_known(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            if f.init and f.name not in IDENTIFIERS:
                value = getattr(obj, f.name)
                new = _scrub(value)
                if new is not value:
                    changes[f.name] = new
        return dataclasses.replace(obj, **changes) if changes else obj
    if isinstance(obj, Mapping):
        items = {k: v if k in IDENTIFIERS else _scrub(v) for k, v in obj.items()}
        return items if any(items[k] is not v for k, v in obj.items()) else obj
    if isinstance(obj, list | tuple):
        new_items = [_scrub(v) for v in obj]
        if all(a is b for a, b in zip(new_items, obj, strict=True)):
            return obj
        return type(obj)(new_items) if isinstance(obj, list) or type(obj) is tuple \
            else type(obj)(*new_items)
    return obj


class ScrubFilter(logging.Filter):
    """Formats each record's message, exception and stack, then scrubs them (:func:`scrub`).

    Put it on a handler: a handler's filters see every record it writes, also those of
    child loggers (a logger's own filters do not)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not stop the log line
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = scrub(message), ()
        if record.exc_info:
            record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
