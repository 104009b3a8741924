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
from urllib.parse import parse_qsl, urlsplit

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
        """The principal that signed `request` (in its Authorization header or, presigned, in its query
        string), or why API Gateway would refuse it."""
        now = now or datetime.now(UTC)
        headers = HTTPHeaders()
        for name, value in request.headers:
            headers[name.lower()] = value
        authorization = headers.get("authorization")
        query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
        if not authorization and "X-Amz-Signature" in query:
            return self._presigned(request, headers, query, now)
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
        content_sha = headers.get("x-amz-content-sha256")
        if content_sha is not None and content_sha != hashlib.sha256(request.body).hexdigest():
            return Denied(_SIGNATURE_MISMATCH, "InvalidSignatureException")
        signature = _Signature(
            match["credential"],
            match["signed"].split(";"),
            match["signature"],
            amz_date,
            headers.get("x-amz-security-token"),
        )
        return (
            self._verify(request, headers, signature, request.raw_query, now)
            or _skew(amz_date, now)
            or self._allowed(request, signature)
        )

    def _presigned(
        self, request: SignedRequest, headers: HTTPHeaders, query: dict[str, str], now: datetime
    ) -> Principal | Denied:
        """Query-string SigV4: the signature, its scope and its expiry in X-Amz-* parameters."""
        missing = [name for name in _PRESIGNED_PARAMETERS if not query.get(name)]
        if (
            missing
            or query["X-Amz-Algorithm"] != ALGORITHM
            or not re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"])
        ):
            return Denied(
                "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', "
                "'X-Amz-Expires', 'X-Amz-SignedHeaders' and 'X-Amz-Signature'.",
                "IncompleteSignatureException",
            )
        expires = query["X-Amz-Expires"]
        if not re.fullmatch(r"[0-9]{1,6}", expires, re.ASCII) or not 1 <= int(expires) <= MAX_PRESIGNED_SECONDS:
            return Denied(
                f"X-Amz-Expires must be a whole number of seconds from 1 to {MAX_PRESIGNED_SECONDS}.",
                "IncompleteSignatureException",
            )
        signature = _Signature(
            query["X-Amz-Credential"],
            query["X-Amz-SignedHeaders"].split(";"),
            query["X-Amz-Signature"],
            query["X-Amz-Date"],
            query.get("X-Amz-Security-Token"),
        )
        # The canonical query string holds every parameter but the signature itself.
        signed_query = "&".join(
            pair for pair in request.raw_query.split("&") if pair.partition("=")[0] != "X-Amz-Signature"
        )
        return (
            self._verify(request, headers, signature, signed_query, now)
            or _expiry(signature.amz_date, int(expires), now)
            or self._allowed(request, signature)
        )

    def _verify(
        self, request: SignedRequest, headers: HTTPHeaders, signature: _Signature, signed_query: str, now: datetime
    ) -> Denied | None:
        """Whose key signed it, in which scope, and whether the signature is that key's over this request."""
        access_key, _, scope = signature.credential.partition("/")
        if "host" not in signature.signed_headers:
            return Denied(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
                "IncompleteSignatureException",
            )
        principal = self._principals.get(access_key)
        # Every local principal is an IAM user with a long-term key: a session token beside one is invalid.
        if principal is None or signature.security_token is not None:
            return Denied("The security token included in the request is invalid.", "UnrecognizedClientException")
        scope_date, _, rest = scope.partition("/")
        if rest != f"{self.region}/{SERVICE}/aws4_request" or scope_date != signature.amz_date[:8]:
            return Denied(
                f"Credential should be scoped to a valid region and to the service '{SERVICE}'.",
                "InvalidSignatureException",
            )
        query = f"?{signed_query}" if signed_query else ""
        aws_request = AWSRequest(
            method=request.method, url=f"http://{headers.get('host', 'localhost')}{request.raw_path}{query}"
        )
        aws_request.headers = headers
        aws_request.context["timestamp"] = signature.amz_date
        credentials = Credentials(principal.access_key_id, principal.secret_access_key)
        signer = _Recompute(credentials, self.region, signature.signed_headers, request.body)
        string_to_sign = signer.string_to_sign(aws_request, signer.canonical_request(aws_request))
        if not hmac.compare_digest(signer.signature(string_to_sign, aws_request), signature.signature):
            return Denied(_SIGNATURE_MISMATCH, "InvalidSignatureException")
        return None

    def _allowed(self, request: SignedRequest, signature: _Signature) -> Principal | Denied:
        """The signer, if its IAM policies allow it to invoke this route."""
        principal = self._principals[signature.credential.partition("/")[0]]
        resource = self.resource_arn(request.method, urlsplit(request.raw_path).path)
        if not allows(principal.policies, "execute-api:Invoke", resource):
            return Denied(
                f"User: {principal.arn} is not authorized to perform: execute-api:Invoke on resource: {resource}",
                "AccessDeniedException",
            )
        return principal


@dataclass(frozen=True)
class _Signature:
    """A SigV4 signature as the caller sent it, from the Authorization header or the query string."""

    credential: str  # <access key>/<date>/<region>/<service>/aws4_request
    signed_headers: list[str]
    signature: str
    amz_date: str
    security_token: str | None


_PRESIGNED_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
# SigV4 allows a presigned request to live at most 7 days.
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600


_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


def _expiry(amz_date: str, expires: int, now: datetime) -> Denied | None:
    """A presigned request: refused once `expires` seconds have passed since it was signed (or before it was)."""
    signed_at = _parse_amz_date(amz_date)
    if signed_at is None:
        return Denied(f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.", "IncompleteSignatureException")
    stamp = "%Y%m%dT%H%M%SZ"
    if now > signed_at + timedelta(seconds=expires):
        return Denied(
            f"Signature expired: {amz_date} is now earlier than {(now - timedelta(seconds=expires)).strftime(stamp)} "
            f"({now.strftime(stamp)} - {expires} sec.)",
            "InvalidSignatureException",
        )
    if signed_at > now + MAX_CLOCK_SKEW:
        return Denied(
            f"Signature not yet current: {amz_date} is still later than {now.strftime(stamp)}",
            "InvalidSignatureException",
        )
    return None


def _parse_amz_date(amz_date: str) -> datetime | None:
    try:
        return datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


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
