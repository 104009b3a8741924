"""A seller's webhook endpoint, on localhost: what `make run`'s demo channels point at, and what the
tests point theirs at. Each POST is recorded with whether its X-Signature verifies (with the code
the README gives receivers, infra/local/verify_signature.py); `answers` scripts what it replies.
"""

from __future__ import annotations

import json
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
