"""Bad input that generators rarely write, sent over HTTP through the local stack.

Raw bytes on the wire (not events built in Python): malformed JSON and bad encodings, NUL
bytes, huge and odd numbers, unknown fields, over-long strings, odd order ids, odd media
types and query strings, bodies over 64 KiB and over API Gateway's 10 MB. Each gets the
contract's 4xx (docs/api.md §3 "Errors") as problem+json, or API Gateway's own answer, never a 5xx
or a stack trace, and changes nothing: the order it names and the seller's list are as before.
(tests/integration/test_handlers.py holds the handler-level cases; these go over the wire.)
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.hardening.wire import seller, sigv4_headers, warehouse
from tests.support.local_stack import order_body

pytestmark = pytest.mark.e2e

KIB = 1024
ORDER = order_body("WIRE-1")
ROUTES = {
    "create": ("POST", "/orders", "seller"),
    "list": ("GET", "/orders", "seller"),
    "get": ("GET", "/orders/{order_id}", "seller"),
    "cancel": ("POST", "/orders/{order_id}/cancel", "seller"),
    "request": ("POST", "/orders/{order_id}/cancellation-request", "seller"),
    "decision": ("POST", "/warehouse/orders/{order_id}/cancellation-decision", "warehouse"),
    "status": ("POST", "/warehouse/orders/{order_id}/status", "warehouse"),
}
# The state each route's order is put in, so that a valid request would change it.
MOVES = {
    "cancel": [],
    "request": ["SENT_TO_WAREHOUSE"],
    "decision": ["SENT_TO_WAREHOUSE", "request"],
    "status": ["SENT_TO_WAREHOUSE"],
}


def raw(value: Any) -> bytes:
    return json.dumps(value).encode()


def create_with(text: str) -> bytes:
    """A valid order's JSON with one token replaced, as a client's serializer might mangle it."""
    return raw(ORDER).replace(b'"quantity": 2', text.encode())


@dataclass(frozen=True)
class Bad:
    route: str
    body: bytes | None
    status: int
    code: str | None = "VALIDATION_ERROR"
    headers: dict[str, str] = field(default_factory=dict)
    order_id: str | None = None  # sent in the path as is (percent-encoded), instead of the real one
    query: str = ""


CASES: dict[str, Bad] = {
    # malformed JSON
    "truncated JSON": Bad("create", raw(ORDER)[:-10], 400),
    "trailing garbage": Bad("create", raw(ORDER) + b"}}", 400),
    "a JSON array": Bad("create", b"[]", 400),
    "a JSON string": Bad("request", b'"please"', 400),
    "NaN": Bad("request", b'{"reason_code": NaN}', 400),
    "single quotes": Bad("status", b"{'status': 'PICKED'}", 400),
    "comments": Bad("status", b'{"status": "PICKED" /* now */}', 400),
    "empty body where one is required": Bad("decision", b"", 400),
    "nesting 60,000 deep": Bad("create", b"[" * 60_000, 400),
    "nesting 990 deep": Bad("request", b'{"note":' * 990 + b'"x"' + b"}" * 990, 400),
    # encodings
    "a UTF-8 byte order mark": Bad("create", "\ufeff".encode() + raw(ORDER), 400),
    "UTF-16": Bad("create", json.dumps(ORDER).encode("utf-16"), 400),
    "Latin-1 bytes": Bad("create", raw({**ORDER, "reference": "CAF"}).replace(b"CAF", b"CAF\xe9"), 400),
    "an overlong UTF-8 slash": Bad("create", raw({**ORDER, "reference": "A"}).replace(b'"A"', b'"\xc0\xaf"'), 400),
    "a lone surrogate escape": Bad("create", raw({**ORDER, "reference": "\ud800"}), 400),
    "a lone surrogate in a note": Bad("request", raw({"note": "\udfff"}), 400),
    "binary": Bad("status", bytes(range(256)) * 4, 400),
    # NUL bytes
    "a raw NUL byte": Bad("create", raw(ORDER).replace(b'"reference"', b'"reference"\x00'), 400),
    "NUL in a reference": Bad("create", raw({**ORDER, "reference": "SHOP\x001"}), 400),
    "NUL in a note": Bad("request", raw({"note": "hold\x00it"}), 400),
    "NUL in a tracking number": Bad("status", raw({"status": "PICKED", "tracking_number": "TRK\x00"}), 400),
    "NUL in the order id": Bad("get", None, 400, order_id="%00"),
    "NUL in the query": Bad("list", None, 400, query="status=%00"),
    # numbers
    "a 5,000-digit quantity": Bad("create", create_with('"quantity": ' + "9" * 5000), 400),
    "1e400": Bad("create", create_with('"quantity": 1e400'), 400),
    "-0": Bad("create", create_with('"quantity": -0'), 400),
    "2.5": Bad("create", create_with('"quantity": 2.5'), 400),
    "a quantity as text": Bad("create", create_with('"quantity": "2"'), 400),
    "true for a quantity": Bad("create", create_with('"quantity": true'), 400),
    "a negative quantity": Bad("create", create_with('"quantity": -9223372036854775809'), 400),
    "a limit of 10^23": Bad("list", None, 400, query="limit=99999999999999999999999"),
    "a limit of 1e2": Bad("list", None, 400, query="limit=1e2"),
    "two limits": Bad("list", None, 400, query="limit=1&limit=500"),
    "an emoji limit": Bad("list", None, 400, query="limit=%F0%9F%98%80"),
    "a 600-character next_token": Bad("list", None, 400, query="next_token=" + "A" * 600),
    "a next_token this API did not issue": Bad("list", None, 400, query="next_token=W10"),
    # unknown fields
    "a seller_id of one's own choosing": Bad("create", raw({**ORDER, "seller_id": "S-OTHER"}), 400),
    "an unknown nested field": Bad("create", raw({**ORDER, "recipient": {**ORDER["recipient"], "phone": "1"}}), 400),
    "__proto__": Bad("request", raw({"__proto__": {"admin": True}}), 400),
    "an unknown field on a decision": Bad("decision", raw({"decision": "APPROVED", "order_id": "ord_x"}), 400),
    "an unknown field on a status": Bad("status", raw({"status": "PICKED", "priority": "HIGH"}), 400),
    # over-long strings
    "a 65-character reference": Bad("create", raw({**ORDER, "reference": "R" * 65}), 400),
    "a 201-character name": Bad("create", raw({**ORDER, "recipient": {**ORDER["recipient"], "name": "N" * 201}}), 400),
    "a 501-character note": Bad("request", raw({"note": "n" * 501}), 400),
    "a 60 KiB sku": Bad("create", raw({**ORDER, "items": [{"sku": "S" * 60 * KIB, "quantity": 1}]}), 400),
    "a 65-character tracking number": Bad("status", raw({"status": "PICKED", "tracking_number": "T" * 65}), 400),
    # odd order ids
    "an upper-case order id": Bad("get", None, 400, order_id="ORD_" + "a" * 26),
    "an order id one too long": Bad("cancel", None, 400, order_id="ord_" + "a" * 27),
    "a 10,000-character order id": Bad("get", None, 400, order_id="ord_" + "a" * 10_000),
    "an accented order id": Bad("request", raw({}), 400, order_id="ord_%C3%A9" + "a" * 24),
    "a right-to-left override": Bad("get", None, 400, order_id="%E2%80%AE"),
    "an encoded slash in the id": Bad("status", raw({"status": "PICKED"}), 400, order_id="ord_%2F" + "a" * 23),
    "a newline after the id": Bad("get", None, 400, order_id="ord_" + "a" * 26 + "%0A"),
    "dot-dot": Bad("get", None, 403, code=None, order_id=".."),
    # media types
    "text/plain": Bad("create", raw(ORDER), 415, code="UNSUPPORTED_MEDIA_TYPE", headers={"Content-Type": "text/plain"}),
    "a form": Bad(
        "create",
        b"reference=A",
        415,
        code="UNSUPPORTED_MEDIA_TYPE",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    # issue 10's finding: multipart without a boundary was a 500 from the form parser
    "multipart without a boundary": Bad(
        "request",
        raw({"reason_code": "OTHER"}),
        415,
        code="UNSUPPORTED_MEDIA_TYPE",
        headers={"Content-Type": "multipart/form-data"},
    ),
    "a media type without a subtype": Bad(
        "request", raw({}), 415, code="UNSUPPORTED_MEDIA_TYPE", headers={"Content-Type": "application/"}
    ),
    # more of issue 10's findings: a key twice, blank text, a made-up country, a sloppy limit
    "a key twice": Bad("create", raw(ORDER)[:-1] + b', "reference": "WIRE-2"}', 400),
    "a blank reference": Bad("create", raw({**ORDER, "reference": "   "}), 400),
    "a blank sku": Bad("create", raw({**ORDER, "items": [{"sku": "  ", "quantity": 1}]}), 400),
    "country XX": Bad("create", raw({**ORDER, "recipient": {**ORDER["recipient"], "country": "XX"}}), 400),
    "a limit of 1_0": Bad("list", None, 400, query="limit=1_0"),
    "a limit of +5": Bad("list", None, 400, query="limit=%2B5"),
    "a limit of 0010": Bad("list", None, 400, query="limit=0010"),
    "a rejection without a reason": Bad("decision", raw({"decision": "REJECTED"}), 400),
    "XML": Bad(
        "status",
        b"<status>PICKED</status>",
        415,
        code="UNSUPPORTED_MEDIA_TYPE",
        headers={"Content-Type": "application/xml"},
    ),
    # size
    "64 KiB and one byte": Bad(
        "create", raw(ORDER) + b" " * (64 * KIB + 1 - len(raw(ORDER))), 413, "PAYLOAD_TOO_LARGE"
    ),
    "65 KiB on a route with no body": Bad("cancel", b"x" * 65 * KIB, 413, "PAYLOAD_TOO_LARGE"),
    "65 KiB on a GET": Bad("list", b"x" * 65 * KIB, 413, "PAYLOAD_TOO_LARGE"),
    "65 KiB to the warehouse": Bad(
        "status", raw({"status": "PICKED", "tracking_number": "T" * 65 * KIB}), 413, "PAYLOAD_TOO_LARGE"
    ),
    "over API Gateway's 10 MB": Bad("create", b"[" + b" " * (10 * KIB * KIB) + b"]", 413, code=None),
}


# Where the answer is a 4xx problem but not yet the one the contract names (see docs/reliability.md).
def cases():
    for name, case in CASES.items():
        yield pytest.param(case, id=name)


@pytest.mark.parametrize("case", list(cases()))
def test_bad_input_is_refused_over_the_wire_and_changes_nothing(local_stack, wire, case: Bad, figures):
    api = local_stack.api_url
    portal, depot = seller(api, wire), warehouse(api, wire)
    method, path, caller = ROUTES[case.route]

    # Given a seller with an order that a valid request on this route would change
    order = portal.create_order()
    for command in MOVES.get(case.route, []):
        answer = (
            portal.request("POST", f"/orders/{order['order_id']}/cancellation-request", {})
            if command == "request"
            else depot.move(order["order_id"], command)
        )
        assert answer.status_code in (200, 202), answer.text
    before = portal.request("GET", f"/orders/{order['order_id']}").json()
    listed_before = portal.request("GET", "/orders?limit=100").json()

    # When the bad request is sent, as raw bytes
    url = f"{api}{path.replace('{order_id}', case.order_id or order['order_id'])}" + (
        f"?{case.query}" if case.query else ""
    )
    headers = {"Content-Type": "application/json"} if case.body is not None else {}
    headers.update(case.headers)
    if caller == "warehouse":
        headers = sigv4_headers(depot.credentials, depot.region, method, url, case.body, headers)
    else:
        headers["Authorization"] = portal.token
    answer = wire.request(method, url, data=case.body, headers=headers)

    # Then the contract's refusal: problem+json with its code, or API Gateway's own {"message"}
    assert answer.status_code == case.status, answer.text[:500]
    if case.code is None:
        assert answer.headers["Content-Type"] == "application/json" and answer.json().keys() == {"message"}
    else:
        problem = answer.json()
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert (problem["status"], problem["code"], problem["type"]) == (case.status, case.code, "about:blank")
        if case.code == "VALIDATION_ERROR":
            assert problem["errors"] and all(error["field"] and error["message"] for error in problem["errors"])
    # And nothing changed: the order, and the seller's orders (no order was created either)
    assert portal.request("GET", f"/orders/{order['order_id']}").json() == before
    assert portal.request("GET", "/orders?limit=100").json() == listed_before
    figures.add("hand_written_requests")


@pytest.mark.parametrize(
    "route, body, status",
    [
        pytest.param("create", raw(ORDER) + b" " * (64 * KIB - len(raw(ORDER))), 201, id="exactly 64 KiB"),
        pytest.param("create", raw({**ORDER, "reference": "R" * 64}), 201, id="a 64-character reference"),
        pytest.param("request", raw({"note": "\U0001f4e6" * 500}), 202, id="a 500-emoji note"),
        pytest.param("request", raw({"note": "line one\r\nline\ttwo"}), 202, id="line breaks and tabs in a note"),
        pytest.param("request", raw({"reason_code": "OTHER", "note": None}), 202, id="an explicit null"),
        pytest.param("create", create_with('"quantity": 2.0'), 201, id="2.0, the integer 2 in JSON Schema"),
        pytest.param(
            "status", raw({"status": "PICKED", "tracking_number": "T" * 64}), 200, id="a 64-character tracking number"
        ),
        pytest.param(
            "create",
            raw({**ORDER, "reference": "\u0645\u0631\u062d\u0628\u0627-\u4f60\u597d"}),
            201,
            id="a reference in Arabic and Chinese",
        ),
    ],
)
def test_input_at_the_limits_is_accepted_over_the_wire(local_stack, wire, route, body, status, figures):
    """The other side of each limit: the refusals above are not a parser that refuses too much."""
    api = local_stack.api_url
    portal, depot = seller(api, wire), warehouse(api, wire)
    method, path, caller = ROUTES[route]
    order = portal.create_order()
    for command in MOVES.get(route, []):
        depot.move(order["order_id"], command)
    url = f"{api}{path.replace('{order_id}', order['order_id'])}"
    headers = {"Content-Type": "application/json"}
    if caller == "warehouse":
        headers = sigv4_headers(depot.credentials, depot.region, method, url, body, headers)
    else:
        headers["Authorization"] = portal.token
    answer = wire.request(method, url, data=body, headers=headers)
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["Content-Type"] == "application/json"
    figures.add("hand_written_requests")


def test_a_media_type_in_capitals_is_json(local_stack, wire):
    portal = seller(local_stack.api_url, wire)
    answer = wire.post(
        f"{local_stack.api_url}/orders",
        data=raw(order_body()),
        headers={"Authorization": portal.token, "Content-Type": "APPLICATION/JSON"},
    )
    assert answer.status_code == 201, answer.text


def raw_exchange(api_url: str, request: bytes, *, hang_up: bool = False) -> bytes:
    """Send `request` as bytes on a socket of its own (half-closed after it when `hang_up`); the reply."""
    host, port = api_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        if hang_up:
            connection.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


def test_a_client_that_hangs_up_mid_body_gets_400_and_changes_nothing(local_stack, wire, figures):
    # Given a seller, and a create that announces 400 bytes of body but sends 40 and hangs up
    portal = seller(local_stack.api_url, wire)
    body = raw(order_body("HANG-UP"))
    request = (
        b"POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: {portal.token}\r\nContent-Length: {len(body) + 100}\r\nConnection: close\r\n\r\n".encode()
        + body[:40]
    )
    reply = raw_exchange(local_stack.api_url, request, hang_up=True)
    # Then API Gateway's own 400, and no order was created
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:200]
    assert portal.request("GET", "/orders").json()["orders"] == []
    figures.add("hand_written_requests")


def test_an_origin_with_a_superscript_digit_does_not_fail_a_committed_cancel(local_stack, wire, figures):
    # Given a pending order
    portal = seller(local_stack.api_url, wire)
    order = portal.create_order()
    # When the seller cancels it with Origin "http://localhost:" and the byte 0xB2 ("²" in Latin-1)
    request = (
        f"POST /orders/{order['order_id']}/cancel HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {portal.token}\r\nContent-Length: 0\r\nConnection: close\r\n".encode()
        + b"Origin: http://localhost:\xb2\r\n\r\n"
    )
    reply = raw_exchange(local_stack.api_url, request)
    # Then the cancellation is answered 200, granting that origin nothing, and the order is cancelled
    head = reply.split(b"\r\n\r\n", 1)[0].lower()
    assert reply.startswith(b"HTTP/1.1 200 "), reply[:300]
    assert b"access-control-allow-origin: http://localhost:" not in head
    assert portal.request("GET", f"/orders/{order['order_id']}").json()["status"] == "CANCELLED"
    figures.add("hand_written_requests")
