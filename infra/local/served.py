"""A WSGI app served on a thread of its own (the portal, the webhook receiver): started on a free
port when asked for 0, and stopped cleanly."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import make_server


class Served:
    def __init__(self, app: Any, host: str, port: int, name: str):
        self._server = make_server(host, port, app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.1), name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
