"""The reference portal (portal/) on its own origin, as a static site: no build step.

`/config.json` tells the page where the API is, so the one copy of portal/ works on any port.
The Content-Security-Policy lets the page load nothing but its own files and call nothing but
the API: a font, icon or script from another host would be refused by the browser.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local.served import Served

PORTAL = Path(__file__).resolve().parents[2] / "portal"


class PortalServer:
    def __init__(self, api_url: str, host: str = "127.0.0.1", port: int = 8080, root: Path = PORTAL):
        self.api_url = api_url
        self.host = host
        self.port = port
        self.root = root.resolve()
        self._served: Served | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> PortalServer:
        self._served = Served(self._app, self.host, self.port, "portal")
        self.port = self._served.port
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("GET only", status=405, headers={"Allow": "GET, HEAD"})
        if request.path == "/config.json":
            return self._headers(Response(json.dumps({"apiUrl": self.api_url}), content_type="application/json"))
        name = "index.html" if request.path in ("", "/") else request.path.lstrip("/")
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return self._headers(Response("Not found", status=404, content_type="text/plain"))
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".js":
            content_type = "text/javascript"
        return self._headers(Response(path.read_bytes(), content_type=f"{content_type}; charset=utf-8"))

    def _headers(self, response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; connect-src 'self' {self.api_url}; img-src 'self' data:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response
