"""A DynamoDB endpoint on loopback that answers every request with ThrottlingException.

Pointing the functions' own client at it (AWS_ENDPOINT_URL_DYNAMODB) exercises the SDK's
real retry mode, as configured in orders.settings, end to end.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


class _Throttle(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append(self.headers.get("X-Amz-Target", ""))  # type: ignore[attr-defined]
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate exceeded"})
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def throttling_dynamodb() -> Iterator[tuple[str, list[str]]]:
    """(endpoint URL, the X-Amz-Target of every request it received)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttle)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
