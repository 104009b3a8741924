"""Who may call what: the Cognito authorizer on seller routes (401), IAM/SigV4 on warehouse routes (403)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

import jwt
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.local_auth import moto_pool_key
from tests.support.local_stack import Portal, RunningStack, Warehouse, new_seller, session

UNAUTHORIZED = {"message": "Unauthorized"}


def token_like(real: str, *, key=None, kid: str = "dummy", **changes) -> str:
    """A token with the claims of `real`, some changed (None removes one), signed with `key`."""
    claims = {**jwt.decode(real, options={"verify_signature": False}), **changes}
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key or moto_pool_key(), algorithm="RS256", headers={"kid": kid})


def get_orders(stack: RunningStack, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return session().get(f"{stack.api_url}/orders", headers=headers, timeout=10)


# -- seller routes: 401 without a valid ID token -----------------------------------------------


def test_a_valid_token_reaches_the_handler(stack: RunningStack, portal: Portal):
    assert get_orders(stack, portal.token).status_code == 200
    # A token re-signed with the pool's key and unchanged claims is as good (the tests' forgeries are honest)
    assert get_orders(stack, token_like(portal.token)).status_code == 200


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "empty token",
        "not a JWT",
        "Bearer prefix",
        "forged signature",
        "unknown key id",
        "expired",
        "wrong audience",
        "wrong issuer",
        "access token",
        "no expiry",
        "HS256 with a shared secret",
    ],
)
def test_a_seller_route_refuses_anything_but_a_valid_id_token(stack: RunningStack, portal: Portal, case: str):
    now = int(time.time())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    authorization = {
        "no token": None,
        "empty token": "",
        "not a JWT": "let-me-in",
        "Bearer prefix": f"Bearer {portal.token}",
        "forged signature": lambda: token_like(portal.token, key=other_key),
        "unknown key id": lambda: token_like(portal.token, kid="another"),
        "expired": lambda: token_like(portal.token, iat=now - 7200, exp=now - 3600),
        "wrong audience": lambda: token_like(portal.token, aud="another-app-client"),
        "wrong issuer": lambda: token_like(
            portal.token, iss="https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_other"
        ),
        "access token": lambda: token_like(portal.token, token_use="access"),
        "no expiry": lambda: token_like(portal.token, exp=None),
        "HS256 with a shared secret": lambda: jwt.api_jws.PyJWS(algorithms=["HS256"]).encode(
            json.dumps(jwt.decode(portal.token, options={"verify_signature": False})).encode(),
            b"a-shared-secret-that-is-not-the-pool-key",
            algorithm="HS256",
            headers={"kid": "dummy"},
        ),
    }[case]
    if callable(authorization):
        authorization = authorization()

    answer = get_orders(stack, authorization)

    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED
    assert answer.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_a_valid_token_without_a_seller_id_is_refused_by_the_handler(stack: RunningStack, portal: Portal):
    # The authorizer lets a pool's valid token through; the seller is only ever the claim
    answer = get_orders(stack, token_like(portal.token, **{"custom:seller_id": None}))
    assert answer.status_code == 403
    assert answer.json()["code"] == "FORBIDDEN"


def test_the_handler_gets_the_claims_as_api_gateway_passes_them(stack: RunningStack):
    # Whatever a seller sends, their orders are those of the token's custom:seller_id claim
    seller = new_seller()
    portal = Portal(stack.api_url, seller)
    created = portal.create_order()
    assert created["seller_id"] == seller
    assert created["history"][0]["by"] == f"seller:{seller}"


def test_a_signed_warehouse_request_is_not_a_seller(stack: RunningStack, portal: Portal, warehouse: Warehouse):
    url, data, headers = warehouse.signed("/orders", {})
    answer = session().get(f"{stack.api_url}/orders", headers={"Authorization": headers["Authorization"]}, timeout=10)
    assert answer.status_code == 401


# -- warehouse routes: 403 without the warehouse's valid signature ------------------------------


@pytest.fixture
def pending_order(portal: Portal, warehouse: Warehouse) -> str:
    order_id = portal.create_order()["order_id"]
    assert warehouse.move(order_id, "SENT_TO_WAREHOUSE").status_code == 200
    return order_id


def test_the_warehouse_signature_reaches_the_handler(warehouse: Warehouse, pending_order: str):
    answer = warehouse.move(pending_order, "PICKED")
    assert answer.status_code == 200
    assert answer.json()["history"][-1]["by"] == "warehouse"


def assert_refused(answer, error_type: str) -> None:
    assert answer.status_code == 403, answer.text
    assert set(answer.json()) == {"message"}
    assert answer.headers["x-amzn-ErrorType"] == error_type


def test_unsigned_is_refused(stack: RunningStack, pending_order: str):
    answer = session().post(f"{stack.api_url}/warehouse/orders/{pending_order}/status", json={"status": "PICKED"})
    assert_refused(answer, "MissingAuthenticationTokenException")
    assert answer.json()["message"] == "Missing Authentication Token"


def test_a_tampered_body_is_refused(warehouse: Warehouse, pending_order: str):
    url, _, headers = warehouse.signed(f"/warehouse/orders/{pending_order}/status", {"status": "PICKED"})
    answer = warehouse.http.post(url, data=json.dumps({"status": "DESPATCHED"}).encode(), headers=headers)
    assert_refused(answer, "InvalidSignatureException")
    assert answer.json()["message"].startswith("The request signature we calculated does not match")


def test_a_signature_for_another_path_is_refused(warehouse: Warehouse, pending_order: str, portal: Portal):
    other = portal.create_order()["order_id"]
    _, data, headers = warehouse.signed(f"/warehouse/orders/{other}/status", {"status": "SENT_TO_WAREHOUSE"})
    answer = warehouse.http.post(
        f"{warehouse.api_url}/warehouse/orders/{pending_order}/status", data=data, headers=headers
    )
    assert_refused(answer, "InvalidSignatureException")


def test_the_right_key_with_the_wrong_secret_is_refused(stack: RunningStack, warehouse: Warehouse, pending_order: str):
    impostor = Warehouse(
        stack.api_url, Credentials(warehouse.credentials.access_key, "not-the-secret"), warehouse.region
    )
    assert_refused(impostor.move(pending_order, "PICKED"), "InvalidSignatureException")


def test_other_credentials_are_refused(stack: RunningStack, pending_order: str):
    stranger = Warehouse(stack.api_url, Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
    answer = stranger.move(pending_order, "PICKED")
    assert_refused(answer, "UnrecognizedClientException")
    assert answer.json()["message"] == "The security token included in the request is invalid."


def test_a_signature_for_another_region_is_refused(stack: RunningStack, warehouse: Warehouse, pending_order: str):
    elsewhere = Warehouse(stack.api_url, warehouse.credentials, "us-east-1")
    assert_refused(elsewhere.move(pending_order, "PICKED"), "InvalidSignatureException")


def test_an_old_signature_is_refused(warehouse: Warehouse, pending_order: str):
    ten_minutes_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=ten_minutes_ago):
        url, data, headers = warehouse.signed(f"/warehouse/orders/{pending_order}/status", {"status": "PICKED"})
    answer = warehouse.http.post(url, data=data, headers=headers)
    assert_refused(answer, "InvalidSignatureException")
    assert answer.json()["message"].startswith("Signature expired")


def test_a_sellers_token_is_refused_on_a_warehouse_route(stack: RunningStack, portal: Portal, pending_order: str):
    answer = portal.request(
        "POST", f"/warehouse/orders/{pending_order}/cancellation-decision", {"decision": "APPROVED"}
    )
    assert_refused(answer, "IncompleteSignatureException")
    order = portal.request("GET", f"/orders/{pending_order}").json()
    assert order["status"] == "SENT_TO_WAREHOUSE"


def test_a_session_token_beside_the_warehouses_long_term_key_is_refused(
    stack: RunningStack, warehouse: Warehouse, pending_order: str
):
    # The key is an IAM user's; AWS refuses any session token sent with it, signed or not
    with_token = Credentials(warehouse.credentials.access_key, warehouse.credentials.secret_key, "bogus-session-token")
    answer = Warehouse(stack.api_url, with_token, warehouse.region).move(pending_order, "PICKED")
    assert_refused(answer, "UnrecognizedClientException")
    assert warehouse.move(pending_order, "SENT_TO_WAREHOUSE").json()["status"] == "SENT_TO_WAREHOUSE"


def presigned_url(warehouse: Warehouse, path: str, expires: int, signed_at: datetime | None = None) -> str:
    request = AWSRequest(method="POST", url=f"{warehouse.api_url}{path}")
    signer = SigV4QueryAuth(warehouse.credentials, "execute-api", warehouse.region, expires=expires)
    if signed_at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
            signer.add_auth(request)
    return request.url


def test_a_presigned_warehouse_request_is_accepted_until_it_expires(warehouse: Warehouse, pending_order: str):
    # Given a presigned URL for a status move (SigV4 in the query string), and one whose minute has passed
    path = f"/warehouse/orders/{pending_order}/status"
    fresh = presigned_url(warehouse, path, expires=300)
    stale = presigned_url(
        warehouse, path, expires=60, signed_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=2)
    )
    # Then the expired one is refused, and the fresh one is the warehouse's (its body is not signed: empty)
    assert_refused(warehouse.http.post(stale), "InvalidSignatureException")
    answer = warehouse.http.post(fresh)
    assert answer.status_code == 400, answer.text  # past the gateway, to the handler: an empty body is invalid
    assert answer.json()["code"] == "VALIDATION_ERROR"
