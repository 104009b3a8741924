"""The local portal server as a static site under attack: odd paths get 404 or 400, never a 500.

Over real HTTP on loopback (werkzeug's server decodes the path as it would for a browser); no
API, no moto.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest

from infra.local.portal_server import PORTAL, PortalServer


@pytest.fixture(scope="module")
def portal() -> Iterator[PortalServer]:
    server = PortalServer("http://127.0.0.1:3000", port=0).start()
    yield server
    server.stop()


def get(portal: PortalServer, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", portal.port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_the_portals_files_and_its_config_are_served(portal):
    assert get(portal, "/") == (200, (PORTAL / "index.html").read_bytes())
    assert get(portal, "/app.js") == (200, (PORTAL / "app.js").read_bytes())
    assert get(portal, "/config.json") == (200, b'{"apiUrl": "http://127.0.0.1:3000"}')


@pytest.mark.parametrize(
    "path, status",
    [
        ("/app.js%00.html", 400),  # an embedded null byte
        ("/%00", 400),
        ("/app.js%0d%0aSet-Cookie:%20x=1", 400),  # control characters
        ("/%ff%fe.js", 400),  # percent-escapes that are not UTF-8
        ("/" + "a" * 300, 404),  # longer than a file name may be (ENAMETOOLONG)
        ("/" + "a" * 300 + ".js", 404),
        ("/" + "/".join(["a" * 200] * 40), 404),  # longer than a path may be
        ("/../pyproject.toml", 404),
        ("/..%2Fpyproject.toml", 404),  # an encoded slash
        ("/%2e%2e/%2e%2e/etc/passwd", 404),
        ("/%2Fetc%2Fpasswd", 404),
        ("//etc/passwd", 404),
        ("/./app.js", 404),
        ("/app.js/", 404),  # a file is not a directory
        ("/app.js/..", 404),
        ("/%2e", 404),
        ("/portal", 404),
        ("/missing.js", 404),
    ],
)
def test_an_odd_path_is_a_404_or_a_400_never_a_500(portal, path, status):
    assert get(portal, path)[0] == status, path


def test_a_request_line_with_raw_non_utf8_bytes_is_refused(portal):
    with socket.create_connection(("127.0.0.1", portal.port), timeout=10) as connection:
        connection.sendall(b"GET /\xff\xfe.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = connection.makefile("rb").readline()
    assert answer.split()[1] in (b"400", b"404"), answer


def test_only_get_and_head(portal):
    connection = http.client.HTTPConnection("127.0.0.1", portal.port, timeout=10)
    connection.request("POST", "/app.js", body=b"{}")
    answer = connection.getresponse()
    assert (answer.status, answer.getheader("Allow")) == (405, "GET, HEAD")
    connection.close()
