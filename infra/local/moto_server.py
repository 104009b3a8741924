"""moto's server, the one way this repository runs it: `make run`'s stack and the bench's process.

moto's public `ThreadedMotoServer` binds its socket inside the thread it starts and only then
sets the event `start()` waits on: on a taken port that thread dies and `start()` waits forever,
so `make run` would hang instead of saying that MOTO_PORT is taken. This builds the same server
from the same moto parts (its WSGI app and request handler) with `Served`, which binds in the
caller's thread (a taken port is `PortInUse` at once), stops within 0.1 s and closes its socket.

To tell a request's service from its host, moto's app lists the folders of its own package, with a
stat of each of some 200, at every request, under the app's one lock: the list is made once here.

The stack's own clients (the functions', the pollers') send their requests to the server's URL as any
client does, and the server's app answers them in the caller's thread (`answer_in_process`): the same
app, the same request (signed, serialised, with its headers) and the same answer, without the socket, the
HTTP parsing and the thread per connection between two parts of one process. Over four end-to-end
modules (bulk, tracking, stories, editing) the stack's CPU went from 15.1 s to 10.7 s, some 7 s of
either its start. Every other client (the tests', the CLI's, the `aws` command line) reaches the
server over HTTP.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from infra.local.served import Served

log = logging.getLogger("orders-local")


class MotoServer:
    """moto's server (every service it emulates) on `host:port`; port 0 takes a free one."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        from moto import backends
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        services = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: services
        self.host = host
        self._app = DomainDispatcherApplication(create_backend_app)
        self._served = Served(self._app, host, port, "moto", request_handler=MotoRequestHandler)
        self.port = self._served.port
        self._in_process: _InProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Forget what an earlier server in this process left in moto's backends (they are per process)."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()

    def answer_in_process(self) -> None:
        """From now on, the botocore clients of this process made after this call (botocore copies its built-in
        handlers into each new session) answer their requests to this server's URL by calling the server's app
        in their own thread (botocore's `before-send` event, as moto's `mock_aws` does). Idempotent."""
        import botocore.handlers

        if self._in_process is None:
            self._in_process = _InProcess(self._app, self.url)
            botocore.handlers.BUILTIN_HANDLERS.append(("before-send", self._in_process))

    def stop(self, timeout: float = 10) -> None:
        """Stop serving, over HTTP and in process (a client made earlier no longer answers itself). Idempotent."""
        if self._in_process is not None:
            import botocore.handlers

            self._in_process.stopped.set()
            botocore.handlers.BUILTIN_HANDLERS.remove(("before-send", self._in_process))
            self._in_process = None
        self._served.stop(timeout)


class _InProcess:
    """botocore's `before-send` handler: a request to `url` answered by `app` in the caller's thread, as the
    server would answer it: the environ its request handler makes (header names with an underscore that
    moto keeps as sent, too), and a 500 for an exception in moto, which the server's debug-mode app lets out
    and werkzeug's server turns into one (botocore retries it as any 500)."""

    def __init__(self, app: Any, url: str):
        self._app = app
        self._url = url
        self._prefix = url + "/"
        self.stopped = threading.Event()

    def __call__(self, request: Any, **_: Any) -> Any:
        if self.stopped.is_set() or not (request.url == self._url or request.url.startswith(self._prefix)):
            return None
        from botocore.awsrequest import AWSResponse
        from botocore.compat import HTTPHeaders
        from moto.core.botocore_stubber import MockRawResponse

        status, headers, content = self._answer(self._environ(request))
        answer_headers = HTTPHeaders()
        for name, value in headers:
            answer_headers[name] = value
        return AWSResponse(request.url, status, answer_headers, MockRawResponse(content))

    def _environ(self, request: Any) -> dict[str, Any]:
        from moto.core.request import (
            PRESERVED_HEADER_NAMES_ENVIRON_KEY,
            environ_key_for_header,
            should_preserve_original_header_name,
        )
        from werkzeug.test import EnvironBuilder

        address = urlsplit(request.url)
        body = request.body.read() if hasattr(request.body, "read") else request.body
        headers = [(name, _text(value)) for name, value in request.headers.items()]
        environ: dict[str, Any] = EnvironBuilder(
            path=address.path or "/",
            base_url=self._url,
            query_string=address.query,
            method=request.method,
            headers=headers,
            data=body or b"",
        ).get_environ()
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {
            environ_key_for_header(name): name for name, _ in headers if should_preserve_original_header_name(name)
        }
        return environ

    def _answer(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        from werkzeug.exceptions import InternalServerError
        from werkzeug.test import run_wsgi_app

        try:
            answer, status, headers = run_wsgi_app(self._app, environ, buffered=True)
        except Exception:  # what werkzeug's server does with it: logged, and a 500
            log.exception("moto failed on %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"])
            answer, status, headers = run_wsgi_app(InternalServerError(), environ, buffered=True)
        try:
            content = b"".join(answer)
        finally:
            getattr(answer, "close", lambda: None)()
        return int(status.split(" ", 1)[0]), list(headers.items()), content


def _text(value: str | bytes) -> str:
    """A header's value as the server reads it off the wire (botocore holds signed ones as bytes)."""
    return value.decode("latin-1") if isinstance(value, bytes) else value
