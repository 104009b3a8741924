"""The reference portal (portal/) on its own origin, as a static site: no build step.

`/config.json` tells the page where the API is, so the one copy of portal/ works on any port.
The Content-Security-Policy lets the page load nothing but its own files and call nothing but
the API: a font, icon or script from another host would be refused by the browser. A path is
served only when it names a file under portal/ plainly (segments of letters, digits, `.`, `-`
and `_`, no `.` or `..` segment); one holding bytes no file name has (NUL, control characters,
percent-escapes that are not UTF-8) is a 400, anything else a 404, before the file system is asked.
"""

from __future__ import annotations

import json
import mimetypes
import re
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local.served import Served

PORTAL = Path(__file__).resolve().parents[2] / "portal"
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")  # a plain file or directory name
_MAX_SEGMENTS = 8
# NUL, control characters, and U+FFFD: werkzeug's stand-in for percent-escapes that are not UTF-8.
_UNNAMEABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffd]")


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

    def stop(self, timeout: float = 10) -> None:
        if self._served is not None:
            self._served.stop(timeout)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("GET only", status=405, headers={"Allow": "GET, HEAD"})
        if request.path == "/config.json":
            return self._headers(Response(json.dumps({"apiUrl": self.api_url}), content_type="application/json"))
        if _UNNAMEABLE.search(request.path):
            return self._headers(Response("Bad request: no file name holds that path", status=400))
        path = self._file(request.path)
        if path is None:
            return self._headers(Response("Not found", status=404, content_type="text/plain"))
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".js":
            content_type = "text/javascript"
        return self._headers(Response(path.read_bytes(), content_type=f"{content_type}; charset=utf-8"))

    def _file(self, request_path: str) -> Path | None:
        """The file under the root that the path names plainly, or None."""
        segments = ["index.html"] if request_path in ("", "/") else request_path.removeprefix("/").split("/")
        if len(segments) > _MAX_SEGMENTS or not all(_SEGMENT.fullmatch(segment) for segment in segments):
            return None
        path = self.root.joinpath(*segments)
        try:
            found = path.resolve(strict=True)
        except (OSError, RuntimeError):  # gone, or a symlink loop
            return None
        return found if found.is_relative_to(self.root) and found.is_file() else None

    def _headers(self, response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; connect-src 'self' {self.api_url}; img-src 'self' data:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response
