"""The webhook POST (docs/api.md §7): to one checked address, over at most `deadline` seconds all told.

A socket timeout bounds each read, not the call: a receiver that trickles its answer a byte at a
time could hold a delivery (and, through the batch, other sellers' events) for as long as it liked.
So each POST has a hard deadline on the whole of it: a timer shuts the connection's socket down when
the deadline passes, which ends whatever the call is blocked in (connect, the TLS handshake, sending,
the status line, the headers, the body), and a call whose deadline passed is a failure, whatever had
arrived by then. Each blocking step also has the time left as its socket timeout.

The connection is made here (http.client from the standard library carries the HTTP): a TCP socket
to the checked address, TLS verified against the URL's host (SNI included), no proxy, no redirect,
at most `RESPONSE_BYTES_READ` of the answer read. A connection whose answer was read to its end is
kept for the next POST to the same (scheme, address, port, host), across invocations; one that the
receiver has closed meanwhile is noticed before use and replaced.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass

DEADLINE_SECONDS = 5.0
RESPONSE_BYTES_READ = 4096
KEPT_PER_TARGET = 4
USER_AGENT = "order-cancellations-webhooks/1"


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts and the one checked address to connect to."""

    scheme: str
    host: str
    port: int
    path: str  # with the query string
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if (self.scheme, self.port) in (("http", 80), ("https", 443)) else f"{host}:{self.port}"


@dataclass(frozen=True)
class Answer:
    """What one POST got: the status (None when there was none) and, when it failed, why."""

    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Deadline:
    """The end of one POST: at `seconds` from now the watched socket is shut down, so that any call blocked on
    it returns at once (a shutdown wakes a blocked recv, send or connect, where a close from another thread
    does not)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched: socket.socket | None = None
        self._passed = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        """Seconds until the deadline (at least a millisecond: 0 would make a socket non-blocking)."""
        return max(0.001, self._at - time.monotonic())

    def watch(self, watched: socket.socket) -> None:
        with self._lock:
            self._watched = watched
            if self._passed:
                _shut(watched)

    def end(self) -> bool:
        """Stop watching; whether the deadline had passed."""
        self._timer.cancel()
        with self._lock:
            self._watched = None
            return self._passed

    def _expire(self) -> None:
        with self._lock:
            self._passed = True
            if self._watched is not None:
                _shut(self._watched)


def _shut(watched: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed, or never connected
        watched.shutdown(socket.SHUT_RDWR)


class _Connection:
    """One connection to a target. `watch` is a second descriptor of the same socket, made before it connects:
    the deadline shuts the connection down through it whatever wraps the socket (TLS) meanwhile."""

    def __init__(self, target: Target, deadline: Deadline):
        family = socket.AF_INET6 if ":" in target.address else socket.AF_INET
        raw = socket.socket(family, socket.SOCK_STREAM)
        self.watch = raw.dup()
        deadline.watch(self.watch)
        self.http = http.client.HTTPConnection(target.address, target.port)
        try:
            raw.settimeout(deadline.left())
            raw.connect((target.address, target.port))
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock: socket.socket = raw
            if target.scheme == "https":
                sock = _tls_context().wrap_socket(raw, server_hostname=target.host)
        except BaseException:
            raw.close()
            self.watch.close()
            raise
        self.http.sock = sock

    def usable(self) -> bool:
        """Whether a kept connection can carry another request: open, and nothing (no close) waiting on it."""
        sock = self.http.sock
        if sock is None:
            return False
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable

    def close(self) -> None:
        self.http.close()
        self.watch.close()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's CAs, the URL's host checked (TLS 1.2 at least)."""
    return ssl.create_default_context()


_kept: dict[Target, list[_Connection]] = {}
_kept_lock = threading.Lock()


def _take(target: Target, deadline: Deadline) -> _Connection:
    """A kept connection to `target` that is still usable, or a new one (made under the deadline)."""
    key = _key(target)
    while True:
        with _kept_lock:
            kept = _kept.get(key)
            connection = kept.pop() if kept else None
        if connection is None:
            return _Connection(target, deadline)
        if connection.usable():
            deadline.watch(connection.watch)
            return connection
        connection.close()


def _keep(target: Target, connection: _Connection) -> None:
    with _kept_lock:
        kept = _kept.setdefault(_key(target), [])
        if len(kept) < KEPT_PER_TARGET:
            kept.append(connection)
            return
    connection.close()


def _key(target: Target) -> Target:
    return Target(target.scheme, target.host, target.port, "", target.address)


def kept_connections() -> int:
    with _kept_lock:
        return sum(len(kept) for kept in _kept.values())


def forget_connections() -> None:
    """Close every kept connection."""
    with _kept_lock:
        kept = [connection for connections in _kept.values() for connection in connections]
        _kept.clear()
    for connection in kept:
        connection.close()


def post(target: Target, body: bytes, headers: dict[str, str], *, deadline: float = DEADLINE_SECONDS) -> Answer:
    """POST `body` to the checked address, all of it within `deadline` seconds; never a redirect, never more
    than a little of the answer read. A call that misses the deadline is a failure, whatever had arrived."""
    sent = {"Host": target.host_header, "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    watch = Deadline(deadline)
    connection: _Connection | None = None
    status: int | None = None
    error: str | None = None
    reusable = timed_out = False
    try:
        connection = _take(target, watch)
        status, reusable = _exchange(connection, target, body, sent, watch)
    except (OSError, http.client.HTTPException, ValueError) as failure:
        error = f"{type(failure).__name__}: {failure}"
        timed_out = isinstance(failure, TimeoutError)  # each step's timeout is the time left: the deadline
    if watch.end() or timed_out:
        status, error, reusable = None, f"no complete answer within {deadline:g} s", False
    if connection is not None:
        if reusable:
            _keep(target, connection)
        else:
            connection.close()
    return Answer(status, error)


def _exchange(
    connection: _Connection, target: Target, body: bytes, headers: dict[str, str], watch: Deadline
) -> tuple[int, bool]:
    """Send the request and read the answer: its status, and whether the connection can serve another."""
    sock: socket.socket = connection.http.sock
    sock.settimeout(watch.left())
    connection.http.request("POST", target.path, body=body, headers=headers)
    sock.settimeout(watch.left())
    response = connection.http.getresponse()
    sock.settimeout(watch.left())
    response.read(RESPONSE_BYTES_READ)
    return response.status, response.isclosed() and connection.http.sock is not None
