"""Keys, tokens and SigV4 signatures for testing the local stack's authorizers without a stack."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode, urlsplit

import jwt
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa

from infra import template
from infra.local.auth import CognitoAuthorizer, SignedRequest, SigV4Authorizer
from infra.local.resources import Principal

REGION, ACCOUNT, API, STAGE = "eu-west-2", "123456789012", "local", "v1"
HOST = "127.0.0.1:3000"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_pool"
CLIENT = "portal-client-id"


POOL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def moto_pool_key() -> rsa.RSAPrivateKey:
    """The key moto signs every pool's tokens with (a resource moto ships): what a forger of local tokens has."""
    from moto.utilities.utils import load_resource

    return jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json")).key


def cognito_authorizer(key: rsa.RSAPrivateKey = POOL_KEY) -> CognitoAuthorizer:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return CognitoAuthorizer(
        jwks={"keys": [{**public, "kid": "pool", "alg": "RS256", "use": "sig"}]}, issuer=ISSUER, audiences=[CLIENT]
    )


def id_token(key=POOL_KEY, kid: str = "pool", **changes) -> str:
    now = int(time.time())
    claims = {
        "sub": "user-1",
        "aud": CLIENT,
        "iss": ISSUER,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "email_verified": True,
        "custom:seller_id": "S-1",
    }
    claims = {name: value for name, value in {**claims, **changes}.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def warehouse_policy() -> dict:
    """The template's WarehouseInvokePolicy document, resolved for the local API."""
    refs = {**template.parameters(), "AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    refs[template.api()[0]] = API
    [policy] = template.resources("AWS::IAM::ManagedPolicy").values()
    return template.Resolver(refs, {})(policy["Properties"]["PolicyDocument"])


KEY = Credentials("AKIAWAREHOUSE0000001", "warehouse-secret")
WAREHOUSE = Principal(
    KEY.access_key,
    KEY.secret_key,
    f"arn:aws:iam::{ACCOUNT}:user/warehouse",
    "AIDAWAREHOUSE",
    ACCOUNT,
    (warehouse_policy(),),
)


def authorizer(*policies: dict) -> SigV4Authorizer:
    principal = Principal(**{**WAREHOUSE.__dict__, "policies": policies or WAREHOUSE.policies})
    return SigV4Authorizer(
        region=REGION, principals=[principal], resource_prefix=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/{STAGE}"
    )


def signed(method: str, target: str, body: bytes = b"", credentials=KEY, region=REGION, **headers) -> SignedRequest:
    request = AWSRequest(method=method, url=f"http://{HOST}{target}", data=body, headers=headers)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    path, _, query = target.partition("?")
    all_headers = [("Host", HOST), *request.headers.items()]
    return SignedRequest(method=method, raw_path=path, raw_query=query, headers=all_headers, body=body)


STATUS = "/warehouse/orders/ord_aaaaaaaaaaaaaaaaaaaaaaaaaa/status"


def presigned(
    method: str, target: str, body: bytes = b"", credentials=KEY, expires: int = 300, **extra
) -> SignedRequest:
    """`target` signed in its query string (SigV4QueryAuth, as a presigned URL is made), `extra` added unsigned."""
    request = AWSRequest(method=method, url=f"http://{HOST}{target}", headers={"Host": HOST})
    SigV4QueryAuth(credentials, "execute-api", REGION, expires=expires).add_auth(request)
    url = urlsplit(request.url)
    path, query = url.path, url.query
    if extra:
        query += "&" + urlencode(extra)
    return SignedRequest(method=method, raw_path=path, raw_query=query, headers=[("Host", HOST)], body=body)
