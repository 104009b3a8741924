"""The local stack's authorizers in isolation: Cognito ID tokens and SigV4 with the template's policy."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.local.auth import CognitoAuthorizer, Denied, SignedRequest
from tests.support.local_auth import (
    API,
    CLIENT,
    HOST,
    ISSUER,
    KEY,
    STAGE,
    STATUS,
    WAREHOUSE,
    authorizer,
    cognito_authorizer,
    id_token,
    presigned,
    signed,
    warehouse_policy,
)

# -- Cognito -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cognito() -> CognitoAuthorizer:
    return cognito_authorizer()


def test_a_valid_id_token_gives_the_claims_as_api_gateway_renders_them(cognito, pool_key):
    claims = cognito.claims(id_token(pool_key, iat=1_795_680_000, exp=4_102_444_800, auth_time=1_795_680_000))
    assert claims is not None
    assert claims["custom:seller_id"] == "S-1"
    assert claims["exp"] == "Fri Jan 01 00:00:00 UTC 2100"
    assert claims["iat"] == "Thu Nov 26 08:00:00 UTC 2026"
    assert claims["auth_time"] == "1795680000"
    assert claims["email_verified"] == "true"
    assert all(isinstance(value, str) for value in claims.values())


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 1},
        {"aud": "another-client"},
        {"iss": "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_other"},
        {"token_use": "access"},
        {"token_use": None},
        {"exp": None},
        {"sub": None},
    ],
    ids=["expired", "audience", "issuer", "access token", "no token_use", "no exp", "no sub"],
)
def test_an_invalid_id_token_is_unauthorized(cognito, pool_key, changes):
    assert cognito.claims(id_token(pool_key, **changes)) is None


def test_a_token_signed_by_another_key_or_naming_another_key_is_unauthorized(cognito, pool_key):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert cognito.claims(id_token(stranger)) is None
    assert cognito.claims(id_token(pool_key, kid="other")) is None
    unsigned = jwt.encode({"sub": "x", "aud": CLIENT, "iss": ISSUER, "token_use": "id"}, None, algorithm="none")
    assert cognito.claims(unsigned) is None
    for nonsense in (None, "", "abc", "a.b.c", "Bearer " + id_token(pool_key)):
        assert cognito.claims(nonsense) is None


# -- SigV4 and the template's warehouse policy --------------------------------------------------


def test_the_warehouse_signature_on_a_warehouse_route_is_the_warehouse():
    assert authorizer().authorize(signed("POST", STATUS, b'{"status": "PICKED"}')) == WAREHOUSE


def test_the_templates_policy_lets_the_warehouse_call_nothing_else():
    for method, target in [("GET", "/orders"), ("POST", "/orders"), ("POST", "/orders/ord_x/cancel")]:
        denied = authorizer().authorize(signed(method, target))
        assert isinstance(denied, Denied) and denied.error_type == "AccessDeniedException", target
        assert f":{API}/{STAGE}/{method}{target}" in denied.message


def test_an_explicit_deny_wins():
    deny = {"Statement": [{"Effect": "Deny", "Action": "execute-api:*", "Resource": "*"}]}
    denied = authorizer(warehouse_policy(), deny).authorize(signed("POST", STATUS))
    assert isinstance(denied, Denied) and denied.error_type == "AccessDeniedException"


def tampered(request: SignedRequest, **changes) -> SignedRequest:
    return SignedRequest(**{**request.__dict__, **changes})


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"status": "DESPATCHED"}'},
        {"method": "PUT"},
        {"raw_path": STATUS.replace("status", "cancellation-decision")},
        {"raw_query": "extra=1"},
    ],
    ids=["body", "method", "path", "query"],
)
def test_a_changed_request_no_longer_matches_its_signature(change):
    request = tampered(signed("POST", STATUS, b'{"status": "PICKED"}'), **change)
    denied = authorizer().authorize(request)
    assert isinstance(denied, Denied) and denied.error_type == "InvalidSignatureException"


def test_a_changed_signed_header_no_longer_matches():
    request = signed("POST", STATUS, b"{}", **{"Content-Type": "application/json"})
    changed = [(n, "text/plain" if n.lower() == "content-type" else v) for n, v in request.headers]
    denied = authorizer().authorize(tampered(request, headers=changed))
    assert isinstance(denied, Denied) and denied.error_type == "InvalidSignatureException"


def test_a_query_string_is_signed_and_checked():
    assert authorizer().authorize(signed("POST", f"{STATUS}?b=2&a=1")) == WAREHOUSE


def test_the_wrong_secret_other_keys_and_other_regions_are_refused():
    cases = {
        "InvalidSignatureException": [
            signed("POST", STATUS, credentials=Credentials(KEY.access_key, "guess")),
            signed("POST", STATUS, region="us-east-1"),
        ],
        "UnrecognizedClientException": [signed("POST", STATUS, credentials=Credentials("AKIAOTHER", "x"))],
    }
    for error_type, requests in cases.items():
        for request in requests:
            denied = authorizer().authorize(request)
            assert isinstance(denied, Denied) and denied.error_type == error_type


def test_a_payload_hash_header_must_be_the_bodys():
    request = signed("POST", STATUS, b"{}", **{"X-Amz-Content-SHA256": "0" * 64})
    assert isinstance(authorizer().authorize(request), Denied)


def test_no_or_incomplete_authorization_is_refused():
    request = signed("POST", STATUS)
    bare = tampered(request, headers=[(n, v) for n, v in request.headers if n.lower() != "authorization"])
    assert authorizer().authorize(bare).error_type == "MissingAuthenticationTokenException"
    token = tampered(request, headers=[("Host", HOST), ("Authorization", "eyJhbGciOi.x.y")])
    assert authorizer().authorize(token).error_type == "IncompleteSignatureException"
    unsigned_host = [(n, v.replace("host;", "")) if n == "Authorization" else (n, v) for n, v in request.headers]
    assert authorizer().authorize(tampered(request, headers=unsigned_host)).error_type == "IncompleteSignatureException"


def test_a_signature_more_than_five_minutes_off_is_refused():
    request = signed("POST", STATUS)
    now = datetime.now(UTC)
    assert authorizer().authorize(request, now=now + timedelta(minutes=4)) == WAREHOUSE
    late = authorizer().authorize(request, now=now + timedelta(minutes=6))
    early = authorizer().authorize(request, now=now - timedelta(minutes=6))
    assert late.message.startswith("Signature expired")
    assert early.message.startswith("Signature not yet current")


# -- SigV4 as IAM checks it: session tokens, presigned requests (issue 10) -------------------------


def test_a_session_token_beside_a_long_term_key_is_refused():
    # Given the warehouse's long-term key, and a request that also carries a (made-up) session token
    with_token = Credentials(KEY.access_key, KEY.secret_key, token="FwoGZXIvYXdzEBogus")
    request = signed("POST", STATUS, b'{"status":"PICKED"}', credentials=with_token)
    assert ("X-Amz-Security-Token", "FwoGZXIvYXdzEBogus") in request.headers
    # Then IAM refuses it, as AWS does: a long-term key has no session
    denied = authorizer().authorize(request)
    assert isinstance(denied, Denied) and denied.error_type == "UnrecognizedClientException"


def test_a_presigned_request_is_the_warehouse_until_it_expires():
    request = presigned("POST", STATUS, expires=60)
    assert authorizer().authorize(request) == WAREHOUSE
    later = datetime.now(UTC) + timedelta(seconds=61)
    expired = authorizer().authorize(request, now=later)
    assert isinstance(expired, Denied) and expired.message.startswith("Signature expired")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: SignedRequest(r.method, r.raw_path.replace("ord_a", "ord_b"), r.raw_query, r.headers, r.body),
        lambda r: SignedRequest("GET", r.raw_path, r.raw_query, r.headers, r.body),
        lambda r: SignedRequest(
            r.method, r.raw_path, r.raw_query.replace("X-Amz-Expires=60", "X-Amz-Expires=600"), r.headers, r.body
        ),
        lambda r: SignedRequest(r.method, r.raw_path, r.raw_query + "&extra=1", r.headers, r.body),
        lambda r: SignedRequest(r.method, r.raw_path, r.raw_query, r.headers, b'{"status":"DESPATCHED"}'),
    ],
    ids=["path", "method", "expiry", "added parameter", "body"],
)
def test_a_presigned_request_changed_after_signing_is_refused(tamper):
    denied = authorizer().authorize(tamper(presigned("POST", STATUS, expires=60)))
    assert isinstance(denied, Denied) and denied.error_type == "InvalidSignatureException"


@pytest.mark.parametrize("drop", ["X-Amz-Credential", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Algorithm"])
def test_a_presigned_request_missing_a_parameter_is_incomplete(drop):
    request = presigned("POST", STATUS)
    query = "&".join(pair for pair in request.raw_query.split("&") if not pair.startswith(f"{drop}="))
    denied = authorizer().authorize(SignedRequest(request.method, request.raw_path, query, request.headers, b""))
    assert isinstance(denied, Denied) and denied.error_type == "IncompleteSignatureException"


def test_a_presigned_request_with_a_session_token_or_another_key_is_refused():
    stranger = presigned("POST", STATUS, credentials=Credentials("AKIASTRANGER00000000", "secret"))
    tokened = presigned("POST", STATUS, credentials=Credentials(KEY.access_key, KEY.secret_key, token="bogus"))
    for request in (stranger, tokened):
        denied = authorizer().authorize(request)
        assert isinstance(denied, Denied) and denied.error_type == "UnrecognizedClientException"
