"""The emulated API Gateway between HTTP and a function: the proxy event it builds, the answer it returns."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from werkzeug.test import Client

from infra.local.functions import InvocationFailed
from infra.local.gateway import CorsPolicy, Gateway, is_localhost_origin
from infra.template import routes
from tests.support.local_auth import STATUS, WAREHOUSE, authorizer, cognito_authorizer, id_token, signed

ORDER_ID = "ord_aaaaaaaaaaaaaaaaaaaaaaaaaa"


class RecordingFunctions:
    """Stands in for the Lambda runtime: keeps each event and answers what the test says."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.answer: Any = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        self.events.append((name, event))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def functions() -> RecordingFunctions:
    return RecordingFunctions()


@pytest.fixture
def client(functions) -> Client:
    gateway = Gateway(
        routes=routes(),
        functions=functions,
        cognito=cognito_authorizer(),
        sigv4=authorizer(),
        cors=CorsPolicy(
            {"AllowOrigin": "https://portal.example.com", "AllowMethods": "GET,POST,OPTIONS"}, allow_localhost=True
        ),
        gateway_response_headers={
            "DEFAULT_4XX": {"Access-Control-Allow-Origin": "https://portal.example.com"},
            "DEFAULT_5XX": {"Access-Control-Allow-Origin": "https://portal.example.com"},
        },
        local_routes=None,
        account_id="123456789012",
        api_id="local",
        stage="v1",
    )
    return Client(gateway)


def test_a_seller_request_becomes_the_rest_proxy_event(client, functions, pool_key):
    answer = client.get(
        f"/orders/{ORDER_ID}",
        query_string="view=full&tag=a&tag=b",
        headers={"Authorization": id_token(pool_key), "Origin": "http://localhost:5173", "X-Custom": "1"},
        environ_overrides={"REMOTE_ADDR": "127.0.0.9", "RAW_URI": f"/orders/{ORDER_ID}?view=full&tag=a&tag=b"},
    )
    assert answer.status_code == 200
    [(function, event)] = functions.events
    assert function == "ReadOrdersFunction"
    assert event["resource"] == "/orders/{order_id}"
    assert event["path"] == f"/orders/{ORDER_ID}"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"order_id": ORDER_ID}
    assert event["queryStringParameters"] == {"view": "full", "tag": "b"}  # the last value, as API Gateway
    assert event["multiValueQueryStringParameters"] == {"view": ["full"], "tag": ["a", "b"]}
    assert event["headers"]["X-Custom"] == "1"
    assert event["multiValueHeaders"]["X-Custom"] == ["1"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.9"
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (context["resourcePath"], context["stage"], context["path"]) == ("/orders/{order_id}", "v1", event["path"])
    assert context["authorizer"]["claims"]["custom:seller_id"] == "S-1"
    assert context["identity"]["sourceIp"] == "127.0.0.9"
    assert context["identity"]["accessKey"] is None
    assert answer.headers["x-amzn-RequestId"] == context["requestId"]


def test_a_warehouse_request_carries_the_iam_identity(client, functions):
    request = signed("POST", STATUS, b'{"status": "PICKED"}', **{"Content-Type": "application/json"})
    answer = client.post(
        STATUS,
        data=request.body,
        headers=[h for h in request.headers if h[0] != "Host"],
        environ_overrides={"HTTP_HOST": "127.0.0.1:3000"},
    )
    assert answer.status_code == 200, answer.text
    [(function, event)] = functions.events
    assert function == "WarehouseStatusFunction"
    identity = event["requestContext"]["identity"]
    assert (identity["accessKey"], identity["userArn"], identity["caller"]) == (
        WAREHOUSE.access_key_id,
        WAREHOUSE.arn,
        WAREHOUSE.user_id,
    )
    assert event["requestContext"]["authorizer"] is None
    assert json.loads(event["body"]) == {"status": "PICKED"}


def test_a_body_that_is_not_utf8_arrives_base64_encoded(client, functions, pool_key):
    client.post("/orders", data=b"\xff\xfe{}", headers={"Authorization": id_token(pool_key)})
    [(_, event)] = functions.events
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe{}"


def test_a_percent_encoded_path_parameter_arrives_decoded(client, functions, pool_key):
    client.get(
        "/orders/ord%5Fx",
        headers={"Authorization": id_token(pool_key)},
        environ_overrides={"RAW_URI": "/orders/ord%5Fx"},
    )
    [(_, event)] = functions.events
    assert event["pathParameters"] == {"order_id": "ord_x"}


def test_the_functions_answer_becomes_the_http_response(client, functions, pool_key):
    functions.answer = {
        "statusCode": 201,
        "headers": {"X-One": "single", "X-Both": "from-headers"},
        "multiValueHeaders": {"X-Both": ["a", "b"], "Set-Cookie": ["c=1", "d=2"]},
        "body": base64.b64encode(b"\x00binary").decode(),
        "isBase64Encoded": True,
    }
    answer = client.get("/orders", headers={"Authorization": id_token(pool_key)})
    assert answer.status_code == 201
    assert answer.data == b"\x00binary"
    assert answer.headers["X-One"] == "single"
    assert answer.headers.getlist("X-Both") == ["a", "b"]  # multiValueHeaders wins a name in both
    assert answer.headers.getlist("Set-Cookie") == ["c=1", "d=2"]
    assert answer.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "answer",
    [
        None,
        {"body": "x"},
        {"statusCode": "200"},
        {"statusCode": 200, "body": 5},
        InvocationFailed("ReadOrdersFunction"),
    ],
)
def test_a_failed_or_malformed_answer_is_api_gateways_502(client, functions, pool_key, answer):
    functions.answer = answer
    response = client.get("/orders", headers={"Authorization": id_token(pool_key), "Origin": "http://localhost:3001"})
    assert response.status_code == 502
    assert response.json == {"message": "Internal server error"}
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3001"


def test_nothing_reaches_a_function_without_authorization(client, functions):
    assert client.get("/orders").status_code == 401
    assert client.post(STATUS, json={"status": "PICKED"}).status_code == 403
    assert client.get("/elsewhere").status_code == 403
    assert client.options("/orders", headers={"Origin": "http://localhost:1"}).status_code == 200
    assert functions.events == []


# -- findings of the outside review (issue 10) ----------------------------------------------------


def test_a_body_shorter_than_its_content_length_is_400_and_reaches_no_function(client, functions, pool_key):
    # Given a client that announces 100 bytes and hangs up after 12
    environ = {"CONTENT_LENGTH": "100", "wsgi.input": io.BytesIO(b'{"reference"'), "CONTENT_TYPE": "application/json"}
    answer = client.post("/orders", headers={"Authorization": id_token(pool_key)}, environ_overrides=environ)
    # Then the gateway answers 400 itself
    assert answer.status_code == 400
    assert answer.json == {"message": "The body ended before its Content-Length"}
    assert functions.events == []


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8080"])
def test_every_answer_that_names_a_local_origin_says_vary_origin(client, pool_key, origin):
    preflight = client.options("/orders", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    unauthorized = client.get("/orders", headers={"Origin": origin})
    forbidden = client.post(STATUS, headers={"Origin": origin}, json={"status": "PICKED"})
    missing = client.get("/nowhere", headers={"Origin": origin})
    for answer, status in ((preflight, 200), (unauthorized, 401), (forbidden, 403), (missing, 403)):
        assert answer.status_code == status
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        assert answer.headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    "origin", ["http://localhost:\u00b2", "http://localhost:\u0663\u0660\u0660\u0660", "http://localhost:0"]
)
def test_an_origin_with_a_port_in_other_digits_is_not_local(client, origin):
    assert not is_localhost_origin(origin)
    preflight = client.options("/orders", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://portal.example.com"
