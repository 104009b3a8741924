"""Every route × every kind of wrong caller, end to end through the local stack.

The routes are template.yaml's own. For each, an order that the route's rightful caller would
change (so that a refusal means something) is sent the same request by each wrong caller: no
credentials, a forged token, an expired token, another seller, a seller on a warehouse route,
the warehouse on a seller route, a forged warehouse signature. Each gets the contract's answer
(docs/api.md §3: 401 / 403 from the gateway, 404 ORDER_NOT_FOUND for another seller), the order is
unchanged afterwards, and then the rightful caller's request does what the contract says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.credentials import Credentials

from infra.template import Route, routes
from tests.hardening.wire import Wire, body_bytes, expired, forged, seller, sigv4_headers, warehouse
from tests.support.commands import http_call

pytestmark = pytest.mark.e2e

# For each route: the state its order must be in for the rightful call to change it, the body, the success.
SETUP = {
    ("POST", "/orders"): (None, "new order", 201),
    ("GET", "/orders"): ([], None, 200),
    ("GET", "/orders/{order_id}"): ([], None, 200),
    ("POST", "/orders/{order_id}/cancel"): ([], None, 200),
    ("PATCH", "/orders/{order_id}"): ([], {"courier_service": "DPD_NEXT_DAY"}, 200),
    ("POST", "/orders/{order_id}/cancellation-request"): (
        ["SENT_TO_WAREHOUSE"],
        {"reason_code": "CUSTOMER_REQUEST"},
        202,
    ),
    ("POST", "/warehouse/orders/{order_id}/cancellation-decision"): (
        ["SENT_TO_WAREHOUSE", "request"],
        {"decision": "APPROVED"},
        200,
    ),
    ("POST", "/warehouse/orders/{order_id}/status"): (["SENT_TO_WAREHOUSE"], {"status": "PACKED"}, 200),
    ("GET", "/warehouse/orders/{order_id}"): ([], None, 200),
    ("GET", "/warehouse/cancellation-requests"): (["SENT_TO_WAREHOUSE", "request"], None, 200),
    # A channel of the owner's, rather than an order, is what these routes act on.
    ("GET", "/notifications"): (["channel"], None, 200),
    ("POST", "/notification-channels"): (["channel"], {"url": "http://localhost:9/matrix"}, 201),
    ("GET", "/notification-channels"): (["channel"], None, 200),
    ("DELETE", "/notification-channels/{channel_id}"): (["channel"], None, 204),
    ("POST", "/notification-channels/{channel_id}/test"): (["channel"], None, 202),
    # docs/api.md §13: the order is named in the body ("bulk": filled in with the owner's order).
    ("POST", "/bulk-cancellations"): ([], "bulk", 200),
    ("POST", "/warehouse/cancellation-decisions"): (["SENT_TO_WAREHOUSE", "request"], "bulk", 200),
    # docs/api.md §12: a despatched order's courier events; the seller's tracking and the two lists.
    ("POST", "/warehouse/orders/{order_id}/tracking-events"): (
        ["SENT_TO_WAREHOUSE", "DESPATCHED"],
        {"events": [{"event_id": "matrix-1", "status": "IN_TRANSIT", "occurred_at": "2026-11-26T09:00:00Z"}]},
        200,
    ),
    ("GET", "/orders/{order_id}/tracking"): ([], None, 200),
    # docs/api.md §11: an order on backorder with something in stock splits.
    ("POST", "/orders/{order_id}/split"): (["ON_BACKORDER"], None, 201),
    ("GET", "/courier-services"): ([], None, 200),
    ("GET", "/courier-statuses"): ([], None, 200),
}
# The routes that answer every seller the same lists (the catalogue, the statuses' meanings).
SHARED_LISTS = {"/courier-services": "courier_services", "/courier-statuses": "courier_statuses"}


def _warehouse_call(command: str, order_id: str) -> tuple[str, dict | None]:
    """The warehouse's call that takes the owner's order a step (a move, with a backorder's lines)."""
    resource, body, _ = http_call(command)
    return resource.format(order_id=order_id), body


CALLERS = (
    "no credentials",
    "forged token",
    "expired token",
    "another seller",
    "a seller on a warehouse route",
    "the warehouse on a seller route",
    "forged warehouse signature",
)


@dataclass(frozen=True)
class Expected:
    status: int
    gateway: bool  # API Gateway's own {"message"} answer, not the function's
    error_type: str | None = None
    code: str | None = None


def expected(route: Route, caller: str) -> Expected | None:
    """The contract's answer to `caller` on `route`; None where the caller is the rightful one."""
    seller_route = route.authorizer == "COGNITO"
    if caller == "another seller" and seller_route:
        if "{order_id}" in route.path:
            return Expected(404, gateway=False, code="ORDER_NOT_FOUND")
        if "{channel_id}" in route.path:
            return Expected(404, gateway=False, code="CHANNEL_NOT_FOUND")
        if route.path == "/bulk-cancellations":
            return Expected(200, gateway=False)  # each of the owner's orders answered as not found
        return Expected(201 if route.method == "POST" else 200, gateway=False)  # their own orders, not ours
    if caller == "a seller on a warehouse route" and seller_route:
        return None
    if caller == "the warehouse on a seller route" and not seller_route:
        return None
    if seller_route:
        return Expected(401, gateway=True, error_type="UnauthorizedException")
    error_type = {
        "no credentials": "MissingAuthenticationTokenException",
        "forged warehouse signature": "InvalidSignatureException",
    }.get(caller, "IncompleteSignatureException")
    return Expected(403, gateway=True, error_type=error_type)


CELLS = [
    pytest.param(route, caller, id=f"{route.method} {route.path} | {caller}")
    for route in routes()
    for caller in CALLERS
    if expected(route, caller) is not None
]


def test_the_matrix_covers_every_route_and_kind_of_caller():
    assert {(route.method, route.path) for route in routes()} == set(SETUP)
    assert len({route for route, _ in (cell.values for cell in CELLS)}) == len(routes())
    assert {caller for _, caller in (cell.values for cell in CELLS)} == set(CALLERS)


def body_names_order(body: Any) -> bool:
    return isinstance(body, dict) and ("order_ids" in body or "decisions" in body)


def send(wire: Wire, api_url: str, route: Route, path: str, body: Any, authorization: dict[str, str]) -> Any:
    headers = {"Content-Type": "application/json", **authorization} if body is not None else dict(authorization)
    return wire.request(route.method, f"{api_url}{path}", data=body_bytes(body), headers=headers)


@pytest.mark.parametrize("route, caller", CELLS)
def test_a_wrong_caller_gets_the_contracts_answer_and_changes_nothing(
    local_stack, wire, route: Route, caller: str, figures
):
    api = local_stack.api_url
    owner, intruder, depot = seller(api, wire), seller(api, wire), warehouse(api, wire)
    path_after, body, success = SETUP[(route.method, route.path)]
    if body == "new order":
        from tests.support.local_stack import order_body

        body = order_body()

    # Given an order of the owner's, where the rightful call would change it (or a channel of theirs)
    order = owner.create_order()
    if body == "bulk":
        body = (
            {"order_ids": [order["order_id"]]}
            if route.authorizer != "AWS_IAM"
            else {"decisions": [{"order_id": order["order_id"], "decision": "APPROVED"}]}
        )
    channels = [command for command in path_after or [] if command == "channel"]
    for _ in channels:
        made = owner.request("POST", "/notification-channels", {"url": "http://localhost:9/owner"})
        assert made.status_code == 201, made.text
        channel_id = made.json()["channel_id"]
    for command in [command for command in path_after or [] if command != "channel"]:
        answer = (
            owner.request("POST", f"/orders/{order['order_id']}/cancellation-request", {})
            if command == "request"
            else depot.post(*_warehouse_call(command, order["order_id"]))
        )
        assert answer.status_code in (200, 202), answer.text
    before = owner.request("GET", f"/orders/{order['order_id']}").json()
    channels_before = owner.request("GET", "/notification-channels").json()
    path = route.path.replace("{order_id}", order["order_id"])
    if channels:
        path = path.replace("{channel_id}", channel_id)
    url = f"{api}{path}"

    # When the wrong caller sends the request
    authorization: dict[str, str] = {}
    if caller == "forged token":
        authorization = {"Authorization": forged(owner.token)}
    elif caller == "expired token":
        authorization = {"Authorization": expired(owner.token)}
    elif caller in ("another seller",):
        authorization = {"Authorization": intruder.token}
    elif caller == "a seller on a warehouse route":
        authorization = {"Authorization": owner.token}
    elif caller in ("the warehouse on a seller route", "forged warehouse signature"):
        credentials = depot.credentials
        if caller == "forged warehouse signature":
            credentials = Credentials(credentials.access_key, "not-the-warehouse-secret")
        content = {"Content-Type": "application/json"} if body is not None else {}
        signed = sigv4_headers(credentials, depot.region, route.method, url, body_bytes(body), content)
        authorization = {name: value for name, value in signed.items() if name != "Content-Type"}
    answer = send(wire, api, route, path, body, authorization)

    # Then the contract's answer
    want = expected(route, caller)
    assert answer.status_code == want.status, answer.text
    if want.gateway:
        assert answer.json().keys() == {"message"}
        assert answer.headers["x-amzn-ErrorType"] == want.error_type
    elif want.code:
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["code"] == want.code
        assert answer.json().keys() == {"type", "title", "status", "code", "detail"}
    elif route.path == "/notification-channels" and route.method == "GET":  # their own channels only
        assert channel_id not in {listed["channel_id"] for listed in answer.json()["channels"]}
    elif route.path == "/notification-channels":  # another seller's new channel is theirs
        assert answer.json()["channel_id"] not in {c["channel_id"] for c in channels_before["channels"]}
    elif route.path == "/bulk-cancellations":  # another seller's order is not found, as if it did not exist
        [result] = answer.json()["results"]
        assert (result["status"], result["action"], result["problem"]["code"]) == (404, "NOT_FOUND", "ORDER_NOT_FOUND")
    elif route.path in SHARED_LISTS:  # the same lists for every seller: nothing of the owner's in them
        assert answer.json()[SHARED_LISTS[route.path]] and order["order_id"] not in answer.text
    elif route.path == "/notifications":  # their own feed: nothing of the owner's
        assert all(event["seller_id"] == intruder.seller_id for event in answer.json()["notifications"])
    elif route.method == "GET":  # another seller's list: their own orders only
        assert order["order_id"] not in {listed["order_id"] for listed in answer.json()["orders"]}
    else:  # another seller's new order is theirs
        assert answer.json()["seller_id"] == intruder.seller_id

    # And the owner's order and channels are exactly as they were
    assert owner.request("GET", f"/orders/{order['order_id']}").json() == before
    assert owner.request("GET", "/notification-channels").json() == channels_before

    # And the rightful caller's same request is answered as the contract says (the refusal meant something)
    if route.authorizer == "AWS_IAM":
        rightful = depot.request(route.method, path, body)
    else:
        rightful = owner.request(route.method, path, body)
    assert rightful.status_code == success, rightful.text
    if route.method == "DELETE":
        assert owner.request("GET", "/notification-channels").json()["channels"] == []
    if route.method == "POST" and ("{order_id}" in route.path or body_names_order(body)):
        after = owner.request("GET", f"/orders/{order['order_id']}").json()
        assert after["version"] == before["version"] + 1
    figures.add("auth_matrix_cells")
