"""A WSGI app served on a thread of its own (the API, moto's server, the portal, the webhook receiver).

The socket is bound in the caller's thread, so a taken port fails at once with `PortInUse`, in
the caller, rather than inside a thread nobody waits on; port 0 takes a free one. The server
polls for its stop every 0.1 s, so that `stop` returns at once.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class PortInUse(Exception):
    """A port to listen on is taken; `set_by` names the variable that chooses it."""

    def __init__(self, host: str, port: int, reason: str, variable: str | None = None):
        super().__init__(host, port, reason, variable)
        self.host, self.port, self.reason, self.variable = host, port, reason, variable

    def __str__(self) -> str:
        hint = f": set {self.variable} to another port" if self.variable else ""
        return f"{self.host}:{self.port} is not free ({self.reason}){hint}"

    def set_by(self, variable: str) -> PortInUse:
        return PortInUse(self.host, self.port, self.reason, variable)


class Served:
    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        name: str,
        *,
        request_handler: type[WSGIRequestHandler] | None = None,
    ):
        self._server = _bound(app, host, port, request_handler)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.1), name=name, daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop accepting connections and close the socket; requests in progress are not waited for."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout)


def _bound(app: Any, host: str, port: int, request_handler: type[WSGIRequestHandler] | None) -> BaseWSGIServer:
    check_free(host, port)
    try:
        return make_server(host, port, app, threaded=True, request_handler=request_handler)
    except (OSError, SystemExit) as error:  # werkzeug prints its own message and exits when it cannot bind
        raise PortInUse(host, port, str(error)) from None


def check_free(host: str, port: int) -> None:
    """Fail with a plain message, before werkzeug prints its own and exits, when the port is taken."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUse(host, port, error.strerror or str(error)) from None
