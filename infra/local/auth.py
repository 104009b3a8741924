"""API Gateway's two authorizations, emulated: Cognito user pool tokens and IAM (SigV4).

`CognitoAuthorizer` checks an ID token as a REST API Cognito authorizer does (RS256 signature
against the pool's JWKS, issuer, audience, expiry, token_use) and gives the claims in the form
API Gateway puts in `requestContext.authorizer.claims`. `SigV4Authorizer` recomputes the
caller's Signature Version 4 with botocore over the same canonical request, against the
secret of the access key it names, then checks the principal's policies for execute-api:Invoke.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from infra.local.resources import Principal

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "execute-api"
# API Gateway refuses a SigV4 request whose X-Amz-Date is more than five minutes off.
MAX_CLOCK_SKEW = timedelta(minutes=5)


# -- Cognito ---------------------------------------------------------------------------------


class CognitoAuthorizer:
    def __init__(self, *, jwks: dict[str, Any], issuer: str, audiences: list[str]):
        """`jwks`: the pool's JSON Web Key Set, as served at <issuer>/.well-known/jwks.json."""
        self._keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
        self.issuer = issuer
        self.audiences = audiences

    def claims(self, authorization: str | None) -> dict[str, str] | None:
        """The token's claims as API Gateway passes them, or None when API Gateway would answer 401."""
        if not authorization:
            return None
        try:
            key = self._keys.get(jwt.get_unverified_header(authorization).get("kid"))
            if key is None:
                return None
            claims = jwt.decode(
                authorization,
                key.key,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "token_use", "sub"]},
            )
        except (jwt.PyJWTError, ValueError):
            return None
        if claims.get("token_use") != "id":
            return None
        return api_gateway_claims(claims)


def api_gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The claims as requestContext.authorizer.claims carries them: every value a string."""
    return {name: _claim_text(name, value) for name, value in claims.items()}


def _claim_text(name: str, value: Any) -> str:
    """API Gateway's rendering of a claim: every value a string, exp and iat as dates."""
    if name in ("exp", "iat") and isinstance(value, int | float):
        return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


# -- IAM (SigV4) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Denied:
    """API Gateway's 403: its message and the error type it names in x-amzn-ErrorType."""

    message: str
    error_type: str


@dataclass(frozen=True)
class SignedRequest:
    method: str
    raw_path: str  # as sent, percent-encoding included
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes


_AUTHORIZATION = re.compile(
    rf"^{ALGORITHM}\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{{64}})$"
)


class _Recompute(SigV4Auth):
    """botocore's SigV4 signer, over exactly the headers the caller says it signed."""

    def __init__(self, credentials: Credentials, region: str, signed_headers: list[str], body: bytes):
        super().__init__(credentials, SERVICE, region)
        self._signed_headers = signed_headers
        self._body = body

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name in self._signed_headers:
            for value in request.headers.get_all(name) or []:
                headers[name] = value
        return headers

    def payload(self, request: AWSRequest) -> str:
        return hashlib.sha256(self._body).hexdigest()


class SigV4Authorizer:
    def __init__(self, *, region: str, principals: list[Principal], resource_prefix: str):
        self.region = region
        self._principals = {principal.access_key_id: principal for principal in principals}
        self._resource_prefix = resource_prefix  # arn:aws:execute-api:<region>:<account>:<api id>/<stage>

    def resource_arn(self, method: str, path: str) -> str:
        return f"{self._resource_prefix}/{method}{path}"

    def authorize(self, request: SignedRequest, now: datetime | None = None) -> Principal | Denied:
        """The principal that signed `request`, or why API Gateway would refuse it."""
        headers = HTTPHeaders()
        for name, value in request.headers:
            headers[name.lower()] = value
        authorization = headers.get("authorization")
        if not authorization:
            return Denied("Missing Authentication Token", "MissingAuthenticationTokenException")
        match = _AUTHORIZATION.match(authorization.strip())
        amz_date = headers.get("x-amz-date", "")
        if not match or not amz_date:
            return Denied(
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
                "parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
                "existence of either a 'X-Amz-Date' or a 'Date' header.",
                "IncompleteSignatureException",
            )
        access_key, _, scope = match["credential"].partition("/")
        signed_headers = match["signed"].split(";")
        if "host" not in signed_headers:
            return Denied(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
                "IncompleteSignatureException",
            )
        principal = self._principals.get(access_key)
        if principal is None:
            return Denied("The security token included in the request is invalid.", "UnrecognizedClientException")
        scope_date, _, rest = scope.partition("/")
        if rest != f"{self.region}/{SERVICE}/aws4_request" or scope_date != amz_date[:8]:
            return Denied(
                f"Credential should be scoped to a valid region and to the service '{SERVICE}'.",
                "InvalidSignatureException",
            )
        content_sha = headers.get("x-amz-content-sha256")
        if content_sha is not None and content_sha != hashlib.sha256(request.body).hexdigest():
            return Denied(_SIGNATURE_MISMATCH, "InvalidSignatureException")

        aws_request = AWSRequest(method=request.method, url=_url(headers, request))
        aws_request.headers = headers
        aws_request.context["timestamp"] = amz_date
        credentials = Credentials(principal.access_key_id, principal.secret_access_key)
        signer = _Recompute(credentials, self.region, signed_headers, request.body)
        string_to_sign = signer.string_to_sign(aws_request, signer.canonical_request(aws_request))
        expected = signer.signature(string_to_sign, aws_request)
        if not hmac.compare_digest(expected, match["signature"]):
            return Denied(_SIGNATURE_MISMATCH, "InvalidSignatureException")

        denied = _skew(amz_date, now or datetime.now(UTC))
        if denied:
            return denied
        resource = self.resource_arn(request.method, urlsplit(request.raw_path).path)
        if not allows(principal.policies, "execute-api:Invoke", resource):
            return Denied(
                f"User: {principal.arn} is not authorized to perform: execute-api:Invoke on resource: {resource}",
                "AccessDeniedException",
            )
        return principal


_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


def _url(headers: HTTPHeaders, request: SignedRequest) -> str:
    query = f"?{request.raw_query}" if request.raw_query else ""
    return f"http://{headers.get('host', 'localhost')}{request.raw_path}{query}"


def _skew(amz_date: str, now: datetime) -> Denied | None:
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return Denied(f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.", "IncompleteSignatureException")
    stamp = "%Y%m%dT%H%M%SZ"
    if signed_at < now - MAX_CLOCK_SKEW:
        return Denied(
            f"Signature expired: {amz_date} is now earlier than {(now - MAX_CLOCK_SKEW).strftime(stamp)} "
            f"({now.strftime(stamp)} - 5 min.)",
            "InvalidSignatureException",
        )
    if signed_at > now + MAX_CLOCK_SKEW:
        return Denied(
            f"Signature not yet current: {amz_date} is still later than {(now + MAX_CLOCK_SKEW).strftime(stamp)} "
            f"({now.strftime(stamp)} + 5 min.)",
            "InvalidSignatureException",
        )
    return None


def allows(policies: tuple[dict[str, Any], ...], action: str, resource: str) -> bool:
    """IAM's identity-policy evaluation for Allow/Deny on Action and Resource with wildcards (no Condition)."""
    allowed = False
    for policy in policies:
        statements = policy.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if not (
                _matches(statement.get("Action"), action, ignore_case=True)
                and _matches(statement.get("Resource"), resource, ignore_case=False)
            ):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _matches(patterns: str | list[str] | None, value: str, *, ignore_case: bool) -> bool:
    """IAM wildcards: `*` any run of characters, `?` any one (action names ignore case, ARNs do not)."""
    if patterns is None:
        return False
    for pattern in [patterns] if isinstance(patterns, str) else patterns:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        if re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0):
            return True
    return False
