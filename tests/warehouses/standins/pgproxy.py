"""A loopback proxy that lets redshift_connector talk to a plain PostgreSQL server.

The driver always sends startup parameters that PostgreSQL rejects (client_protocol_version,
driver_version, os_version, driver_discovery_version) and cannot parse Debian's
``server_version`` ("15.18 (Debian 15.18-0+deb12u1)"). The proxy answers SSLRequest with
``N`` (or, given a server TLS context, ``S`` and a real TLS handshake), drops those
parameters, rewrites ``server_version`` until the first ReadyForQuery, and then copies
bytes both ways. Threads and sockets only; every socket has a timeout, and
the proxy stops with its context (or after ``lifetime`` seconds, whichever comes first).
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

SSL_REQUEST = 80877103
STRIP = frozenset({b"client_protocol_version", b"driver_version", b"os_version",
                   b"driver_discovery_version"})


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def _startup(client: socket.socket, tls: ssl.SSLContext | None,
             seen: list[dict[str, str]] | None) -> tuple[socket.socket, bytes]:
    """The client socket (wrapped in TLS when asked for and ``tls`` is given; else the
    SSLRequest is refused) and its StartupMessage without the stripped keys."""
    while True:
        length, code = struct.unpack("!ii", _read(client, 8))
        body = _read(client, length - 8)
        if code != SSL_REQUEST:
            break
        if tls is None:
            client.sendall(b"N")
        else:
            client.sendall(b"S")
            client = tls.wrap_socket(client, server_side=True)
    fields = body.rstrip(b"\0").split(b"\0")
    pairs = [(k, v) for k, v in zip(fields[::2], fields[1::2], strict=True) if k not in STRIP]
    if seen is not None:
        seen.append({k.decode(): v.decode() for k, v in pairs}
                    | {"tls": "yes" if isinstance(client, ssl.SSLSocket) else "no"})
    payload = struct.pack("!i", code) + b"".join(k + b"\0" + v + b"\0" for k, v in pairs) + b"\0"
    return client, struct.pack("!i", len(payload) + 4) + payload


def _greeting(server: socket.socket, client: socket.socket) -> None:
    """Relay server messages until ReadyForQuery, rewriting ``server_version``."""
    while True:
        kind = _read(server, 1)
        (length,) = struct.unpack("!i", _read(server, 4))
        body = _read(server, length - 4)
        if kind == b"S" and body.startswith(b"server_version\0"):
            version = body.split(b"\0")[1].split(b" ")[0]
            body = b"server_version\0" + version + b"\0"
        client.sendall(kind + struct.pack("!i", len(body) + 4) + body)
        if kind in (b"Z", b"E"):
            return


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    for sock in (source, target):
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _serve(client: socket.socket, upstream: tuple[str, int], tls: ssl.SSLContext | None,
           seen: list[dict[str, str]] | None) -> None:
    with client, socket.create_connection(upstream, timeout=30) as server:
        try:
            # TLS takes over the client's descriptor: the wrapped socket must be closed too
            client, startup = _startup(client, tls, seen)
            with client:
                server.sendall(startup)
                to_server = threading.Thread(target=_pipe, args=(client, server), daemon=True)
                to_server.start()
                _greeting(server, client)
                _pipe(server, client)
                to_server.join(timeout=5)
        except (OSError, ConnectionError, struct.error, ssl.SSLError):
            return


@contextmanager
def pg_proxy(upstream: tuple[str, int], lifetime: float = 1800,
             tls: ssl.SSLContext | None = None,
             seen: list[dict[str, str]] | None = None) -> Iterator[int]:
    """Listen on 127.0.0.1 (a free port, yielded) and proxy each connection to upstream;
    with ``tls``, accept SSLRequest and terminate TLS; ``seen`` collects each connection's
    startup parameters (user, database, ...) and whether it came over TLS."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    timer = threading.Timer(lifetime, stop.set)
    timer.daemon = True
    timer.start()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(300)
            threading.Thread(target=_serve, args=(client, upstream, tls, seen),
                             daemon=True).start()

    thread = threading.Thread(target=accept, name="pg proxy", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        timer.cancel()
        thread.join(timeout=2)
        listener.close()
