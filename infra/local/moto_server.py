"""moto's server, the one way this repository runs it: `make run`'s stack and the bench's process.

moto's public `ThreadedMotoServer` binds its socket inside the thread it starts and only then
sets the event `start()` waits on: on a taken port that thread dies and `start()` waits forever,
so `make run` would hang instead of saying that MOTO_PORT is taken. This builds the same server
from the same moto parts (its WSGI app and request handler) with `Served`, which binds in the
caller's thread (a taken port is `PortInUse` at once), stops within 0.1 s and closes its socket.

To tell a request's service from its host, moto's app lists the folders of its own package, with a
stat of each of some 200, at every request, under the app's one lock: the list is made once here.
"""

from __future__ import annotations

from infra.local.served import Served


class MotoServer:
    """moto's server (every service it emulates) on `host:port`; port 0 takes a free one."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        from moto import backends
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        services = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: services
        self.host = host
        self._served = Served(
            DomainDispatcherApplication(create_backend_app), host, port, "moto", request_handler=MotoRequestHandler
        )
        self.port = self._served.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Forget what an earlier server in this process left in moto's backends (they are per process)."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()

    def stop(self, timeout: float = 10) -> None:
        self._served.stop(timeout)
