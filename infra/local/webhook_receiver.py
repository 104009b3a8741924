"""A seller's webhook endpoint, on localhost: what `make run`'s demo channels point at, and what the
tests point theirs at. Each POST is recorded with whether its X-Signature verifies (with the code
the README gives receivers, infra/local/verify_signature.py); `answers` scripts what it replies.

`SlowReceiver` is an endpoint that holds its caller: on a raw socket, it trickles its answer a byte
at a time (status line and headers included), says nothing, or reads nothing.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local.served import Served
from infra.local.verify_signature import verify


@dataclass(frozen=True)
class Delivery:
    path: str
    event_id: str
    event_type: str
    signature_valid: bool
    body: dict[str, Any]
    answered: int
    received_at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "signature_valid": self.signature_valid,
            "answered": self.answered,
            "body": self.body,
        }


# What the receiver does with the n-th POST to a path (from 1): an HTTP status, or "hang" (sleep past the timeout).
Script = Callable[[str, int], int | str]


@dataclass
class Receiver:
    host: str = "127.0.0.1"
    port: int = 0
    script: Script = field(default=lambda path, number: 200)
    deliveries: list[Delivery] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # path -> the channel's secret
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counts: dict[str, int] = field(default_factory=dict)
    _served: Served | None = None

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> Receiver:
        self._served = Served(self._app, self.host, self.port, "webhook-receiver")
        self.port = self._served.port
        return self

    def stop(self, timeout: float = 10) -> None:
        if self._served is not None:
            self._served.stop(timeout)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def of(self, path: str) -> list[Delivery]:
        with self._lock:
            return [delivery for delivery in self.deliveries if delivery.path == path]

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        raw = request.get_data()
        with self._lock:
            number = self._counts[request.path] = self._counts.get(request.path, 0) + 1
        answer = self.script(request.path, number)
        if answer == "hang":
            time.sleep(7)  # past the delivery's 5 s timeout
            answer = 200
        secret = self.secrets.get(request.path, "")
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unreadable": raw.decode("utf-8", "replace")}
        delivery = Delivery(
            path=request.path,
            event_id=request.headers.get("X-Event-Id", ""),
            event_type=request.headers.get("X-Event-Type", ""),
            signature_valid=bool(secret) and verify(secret, request.headers.get("X-Signature", ""), raw),
            body=body,
            answered=int(answer),
            received_at=time.time(),
        )
        with self._lock:
            self.deliveries.append(delivery)
        return Response("ok" if int(answer) < 300 else "not now", status=int(answer))(environ, start_response)


# -- a receiver that answers slowly, on a raw socket -------------------------------------------------

# A whole answer, status line to body, as a receiver would send it: 59 bytes.
SLOW_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@dataclass
class Held:
    """One connection to a SlowReceiver: when it came, when its request had arrived, when the caller went away
    (None while it is still there), and how much of the answer it was sent."""

    accepted_at: float
    request: bytes = b""
    requested_at: float | None = None
    left_at: float | None = None
    sent: int = 0
    requests: int = 0

    @property
    def request_headers(self) -> str:
        return self.request.split(b"\r\n\r\n", 1)[0].decode("latin-1")


@dataclass
class SlowReceiver:
    """A webhook endpoint on a raw socket that answers as slowly as it likes, to hold its caller.

    `mode` says what each connection gets once its request has arrived (its headers and a body of
    the Content-Length they give): "trickle" sends `answer` one byte every `pace` seconds, status line
    and headers included (but its first `prompt` bytes at once); "silent" sends nothing; "unread"
    reads nothing at all, not even the request.
    After `slow_for` connections (None: every one) the answer is sent at once, and the connection
    serves further requests unless the answer says `Connection: close` or `hang_up` is set (then it
    is closed after the answer). Each connection is a `Held`, in `connections`; the caller going away
    ends it.
    """

    mode: str = "trickle"
    pace: float = 0.5
    answer: bytes = SLOW_ANSWER
    prompt: int = 0
    slow_for: int | None = None
    hang_up: bool = False
    host: str = "127.0.0.1"
    port: int = 0  # a free one, chosen when started
    connections: list[Held] = field(default_factory=list)
    backlog: int = 16
    _listener: socket.socket | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> SlowReceiver:
        self._listener = socket.create_server((self.host, 0), backlog=self.backlog)
        self.port = int(self._listener.getsockname()[1])
        self._listener.settimeout(0.1)
        threading.Thread(target=self._accept, name="slow-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> SlowReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # stopped
            held = Held(accepted_at=time.time())
            with self._lock:
                self.connections.append(held)
                slow = self.slow_for is None or len(self.connections) <= self.slow_for
            threading.Thread(target=self._serve, args=(connection, held, slow), daemon=True).start()

    def _serve(self, connection: socket.socket, held: Held, slow: bool) -> None:
        try:
            self._hold(connection, held, slow)
        except OSError:  # the caller reset the connection
            held.left_at = held.left_at or time.time()
        finally:
            connection.close()

    def _hold(self, connection: socket.socket, held: Held, slow: bool) -> None:
        if not slow:
            self._answer_at_once(connection, held)
        elif self.mode == "unread":
            self._until_gone(connection, held, None)
        elif self._read_request(connection, held):
            if self.mode == "silent":
                self._until_gone(connection, held, None)
            else:
                self._trickle(connection, held)

    def _trickle(self, connection: socket.socket, held: Held) -> None:
        """The answer, its first `prompt` bytes at once and then a byte every `pace` s, until the caller leaves."""
        if self.prompt:
            connection.sendall(self.answer[: self.prompt])
            held.sent = self.prompt
        for byte in range(self.prompt, len(self.answer)):
            if self._until_gone(connection, held, self.pace if byte else 0.0):
                return
            connection.sendall(self.answer[byte : byte + 1])
            held.sent = byte + 1

    def _answer_at_once(self, connection: socket.socket, held: Held) -> None:
        keep_alive = b"connection: close" not in self.answer.lower() and not self.hang_up
        while self._read_request(connection, held):
            connection.sendall(self.answer)
            held.sent += len(self.answer)
            if not keep_alive:
                connection.shutdown(socket.SHUT_WR)
                self._until_gone(connection, held, 5.0)
                return
            held.request = b""

    def _read_request(self, connection: socket.socket, held: Held) -> bool:
        """Read the request: its headers and the body its Content-Length gives. False when the caller left first."""
        while b"\r\n\r\n" not in held.request:
            chunk = connection.recv(65536)
            if not chunk:
                held.left_at = time.time()
                return False
            held.request += chunk
        head = held.request.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
        length = next(
            (int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.startswith("content-length:")), 0
        )
        while len(held.request.split(b"\r\n\r\n", 1)[1]) < length:
            chunk = connection.recv(65536)
            if not chunk:
                held.left_at = time.time()
                return False
            held.request += chunk
        held.requested_at = time.time()
        held.requests += 1
        return True

    def _until_gone(self, connection: socket.socket, held: Held, seconds: float | None) -> bool:
        """Wait `seconds` (None: until the end) for the caller to go away; True when it did."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self._stopping.is_set():
            left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if left <= 0:
                return False
            readable, _, _ = select.select([connection], [], [], left)
            if readable:
                try:
                    gone = not connection.recv(65536, socket.MSG_PEEK)
                except OSError:
                    gone = True
                if gone:
                    held.left_at = time.time()
                    return True
                if self.mode == "unread":
                    time.sleep(left)  # there is data, and this receiver does not read it
        return True
