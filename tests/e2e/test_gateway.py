"""What the emulated API Gateway does around the handlers: routes, CORS, payload limits, its own
answers, the /_local/ helper routes, and never a stack trace in a response."""

from __future__ import annotations

import json

import jwt
import pytest

from infra.template import ROOT, routes
from tests.support.local_stack import LOCAL_ORIGIN, Portal, RunningStack, Warehouse, new_seller, session

ORDER_ID = "ord_" + "a" * 26  # well formed, never created
SEEN_IN_STACK_TRACES = ("Traceback", 'File "', "line ", "Exception", "botocore")


def concrete(path: str) -> str:
    return path.replace("{order_id}", ORDER_ID)


# -- routing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/nothing-here"),
        ("DELETE", "/orders"),
        ("GET", "/orders/x/cancel"),
        ("PUT", f"/warehouse/orders/{ORDER_ID}/status"),
        ("GET", "/"),
    ],
)
def test_what_the_template_does_not_route_is_api_gateways_403(stack: RunningStack, method: str, path: str):
    answer = session().request(method, f"{stack.api_url}{path}", timeout=10)
    assert answer.status_code == 403
    assert answer.json() == {"message": "Missing Authentication Token"}


def test_every_template_route_reaches_its_function(stack: RunningStack, portal: Portal, warehouse: Warehouse):
    for route in routes():
        if route.authorizer == "AWS_IAM":
            answer = warehouse.request(route.method, concrete(route.path), {"status": "PICKED", "decision": "APPROVED"})
        else:
            answer = portal.request(route.method, concrete(route.path), {} if route.method == "POST" else None)
        # The handler answered (problem+json), not the gateway ({"message"})
        assert "message" not in answer.json(), (route, answer.text)
        assert answer.status_code in (200, 400, 404), (route, answer.text)


# -- CORS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", routes(), ids=lambda route: f"{route.method} {route.path}")
def test_every_route_answers_the_preflight(stack: RunningStack, route):
    answer = session().options(
        f"{stack.api_url}{concrete(route.path)}",
        headers={
            "Origin": LOCAL_ORIGIN,
            "Access-Control-Request-Method": route.method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN
    assert route.method in answer.headers["Access-Control-Allow-Methods"].split(",")
    assert {"authorization", "content-type", "x-amz-date"} <= {
        header.strip().lower() for header in answer.headers["Access-Control-Allow-Headers"].split(",")
    }


@pytest.mark.parametrize("origin", [LOCAL_ORIGIN, "http://127.0.0.1:8080"])
def test_every_kind_of_answer_carries_the_local_origin(
    stack: RunningStack, portal: Portal, warehouse: Warehouse, origin: str
):
    headers = {"Origin": origin}
    answers = {
        "handler 200": portal.request("GET", "/orders", **headers),
        "handler 404": portal.request("GET", f"/orders/{ORDER_ID}", **headers),
        "handler 400": portal.request("POST", "/orders", {"reference": 1}, **headers),
        "gateway 401": session().get(f"{stack.api_url}/orders", headers=headers),
        "gateway 403 (route)": session().get(f"{stack.api_url}/nowhere", headers=headers),
        "gateway 403 (signature)": portal.request("POST", f"/warehouse/orders/{ORDER_ID}/status", {}, **headers),
        "local": session().post(f"{stack.api_url}/_local/warehouse-credentials", headers=headers),
    }
    for name, answer in answers.items():
        assert answer.headers.get("Access-Control-Allow-Origin") == origin, name


def test_another_origin_is_not_allowed(stack: RunningStack, portal: Portal):
    stranger = {"Origin": "http://evil.example"}
    assert "Access-Control-Allow-Origin" not in portal.request("GET", "/orders", **stranger).headers
    # API Gateway's own answers name the configured portal origin, never the caller's
    gateway = session().get(f"{stack.api_url}/orders", headers=stranger)
    assert gateway.headers["Access-Control-Allow-Origin"] == "https://portal.example.com"
    preflight = session().options(f"{stack.api_url}/orders", headers=stranger)
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://portal.example.com"
    # localhost with a path, or https, is not a local origin
    for origin in ("http://localhost:5173/x", "https://localhost:5173", "http://localhost:99999"):
        assert "Access-Control-Allow-Origin" not in portal.request("GET", "/orders", Origin=origin).headers, origin


# -- payload limits ------------------------------------------------------------------------------


def test_a_body_over_10_mb_is_refused_by_the_gateway(portal: Portal):
    answer = portal.http.post(
        f"{portal.api_url}/orders",
        data=b"x" * (10 * 1024 * 1024 + 1),
        headers={"Authorization": portal.token, "Content-Type": "application/json", "Origin": LOCAL_ORIGIN},
    )
    assert answer.status_code == 413
    assert answer.json() == {"message": "Request Too Long"}
    assert answer.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN


# -- no stack traces, however malformed the request ------------------------------------------------


def test_malformed_requests_get_clean_answers(stack: RunningStack, portal: Portal):
    token = {"Authorization": portal.token}
    url = stack.api_url
    http = session()
    answers = [
        http.post(f"{url}/orders", data=b"{not json", headers={**token, "Content-Type": "application/json"}),
        http.post(f"{url}/orders", data=b"\xff\xfe\x00binary", headers={**token, "Content-Type": "application/json"}),
        http.post(f"{url}/orders", data=b"[]", headers={**token, "Content-Type": "text/plain"}),
        http.post(f"{url}/orders", data=b"null", headers={**token, "Content-Type": "application/json"}),
        http.get(f"{url}/orders/%00%ff", headers=token),
        http.get(f"{url}/orders/ord_{'z' * 300}", headers=token),
        http.get(f"{url}/orders?limit=-1&limit=x&status=NOPE", headers=token),
        http.get(f"{url}/orders?next_token=%%%", headers=token),
        http.post(f"{url}/orders/{ORDER_ID}/cancellation-request", data=b'{"note": 5}', headers=token),
        http.get(f"{url}/orders", headers={"Authorization": "e30.e30.e30"}),
        http.get(f"{url}/orders", headers={"Authorization": "x" * 8000}),
        http.post(f"{url}/warehouse/orders/{ORDER_ID}/status", headers={"Authorization": "AWS4-HMAC-SHA256 junk"}),
        http.post(f"{url}/_local/tokens", data=b"\xff"),
        http.post(f"{url}/_local/tokens", json={"seller_id": ["S-1"]}),
        http.get(f"{url}/_local/notifications"),
        http.get(f"{url}/_local/nothing"),
    ]
    for answer in answers:
        assert answer.status_code < 500, (answer.request.method, answer.url, answer.text)
        assert not any(marker in answer.text for marker in SEEN_IN_STACK_TRACES), answer.text
        assert answer.json()  # JSON, whatever went wrong


# -- the /_local/ helper routes ---------------------------------------------------------------------


def test_local_tokens_are_the_pools_id_tokens_for_the_seller(stack: RunningStack):
    seller = new_seller()
    first = session().post(f"{stack.api_url}/_local/tokens", json={"seller_id": seller}).json()["id_token"]
    second = session().post(f"{stack.api_url}/_local/tokens", json={"seller_id": seller}).json()["id_token"]
    claims = [jwt.decode(token, options={"verify_signature": False}) for token in (first, second)]
    assert all(c["custom:seller_id"] == seller and c["token_use"] == "id" for c in claims)
    assert claims[0]["sub"] == claims[1]["sub"]  # one user, created on first use
    assert claims[0]["iss"].startswith("https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_")


@pytest.mark.parametrize("body", [{}, {"seller_id": ""}, {"seller_id": "x" * 65}, {"seller_id": "a\nb"}, [], "S-1"])
def test_a_local_token_needs_a_seller_id(stack: RunningStack, body):
    answer = session().post(f"{stack.api_url}/_local/tokens", json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "VALIDATION_ERROR"


def test_local_warehouse_credentials(stack: RunningStack):
    answer = session().post(f"{stack.api_url}/_local/warehouse-credentials").json()
    assert set(answer) == {"access_key_id", "secret_access_key", "region"}
    assert answer["access_key_id"].startswith("AKIA")
    assert answer["region"] == "eu-west-2"
    assert session().get(f"{stack.api_url}/_local/warehouse-credentials").status_code == 405


def test_the_openapi_document_is_served_as_committed(stack: RunningStack):
    answer = session().get(f"{stack.api_url}/_local/openapi.json")
    assert answer.status_code == 200
    assert answer.json() == json.loads((ROOT / "openapi.json").read_text())


def test_the_emulated_aws_endpoint_serves_the_templates_resources(stack: RunningStack, portal: Portal):
    order_id = portal.create_order()["order_id"]
    dynamodb = stack.aws("dynamodb")
    assert set(dynamodb.list_tables()["TableNames"]) == {
        stack.table("OrdersTable"),
        stack.table("NotificationsTable"),
        stack.table("TrackingTable"),
    }
    item = dynamodb.get_item(TableName=stack.table(), Key={"order_id": {"S": order_id}})["Item"]
    assert item["seller_id"] == {"S": portal.seller_id}
