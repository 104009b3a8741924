"""API Gateway (REST API, Lambda proxy integration), emulated as a WSGI application.

A request is matched against the template's own Api routes, authorized as the route's
authorizer would (see auth.py), turned into the proxy event API Gateway sends, handed to the
function's handler, and the handler's answer turned back into HTTP. What API Gateway itself
answers (403 for an unknown route, 401/403 from the authorizers, 413 over 10 MB, 502 when the
function fails) carries the template's GatewayResponses headers, CORS included.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.datastructures import Headers
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request, Response

from infra.local.auth import CognitoAuthorizer, Denied, SignedRequest, SigV4Authorizer
from infra.local.functions import Functions, InvocationFailed
from infra.local.resources import Principal
from infra.template import Route

access_log = logging.getLogger("orders-local.access")
log = logging.getLogger("orders-local")

# API Gateway's payload limit; the handlers refuse far less (64 KiB) themselves.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# Past this, an oversized body is not read to its end: the connection is closed instead.
_MAX_DRAIN_BYTES = 64 * 1024 * 1024


class CorsPolicy:
    """The template's Api Cors settings; locally any http://localhost:<port> origin is also allowed."""

    def __init__(self, cors: dict[str, str], *, allow_localhost: bool):
        self.allow_origin = cors.get("AllowOrigin", "")
        self.allow_headers = cors.get("AllowHeaders", "")
        self.allow_methods = cors.get("AllowMethods", "")
        self.max_age = cors.get("MaxAge", "")
        self.allow_localhost = allow_localhost

    def origin_for(self, origin: str | None) -> str:
        """What Access-Control-Allow-Origin says: the caller's local origin, else the configured one."""
        if origin and self.allow_localhost and is_localhost_origin(origin):
            return origin
        return self.allow_origin

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        headers = {
            "Access-Control-Allow-Origin": self.origin_for(origin),
            "Access-Control-Allow-Headers": self.allow_headers,
            "Access-Control-Allow-Methods": self.allow_methods,
            "Access-Control-Max-Age": self.max_age,
            "Vary": "Origin",  # the allowed origin is the caller's own, locally
        }
        return {name: value for name, value in headers.items() if value}


def is_localhost_origin(origin: str) -> bool:
    """`http://localhost:<port>` or `http://127.0.0.1:<port>`, the port in ASCII digits."""
    found = re.fullmatch(r"http://(?:localhost|127\.0\.0\.1):([0-9]{1,5})", origin, re.ASCII)
    return found is not None and 0 < int(found[1]) < 65536


@dataclass(frozen=True)
class _Resource:
    """One API Gateway resource (a path) and the routes of its methods."""

    path: str
    pattern: re.Pattern[str]
    methods: dict[str, Route]

    @classmethod
    def of(cls, path: str, routes: list[Route]) -> _Resource:
        regex = ""
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{"):
                name = part[1:-1]
                greedy = name.endswith("+")
                regex += f"(?P<{name.rstrip('+')}>{'.+' if greedy else '[^/]+'})"
            else:
                regex += re.escape(part)
        return cls(path, re.compile(regex), {route.method: route for route in routes})

    @property
    def literal_segments(self) -> int:
        return sum(1 for part in self.path.split("/") if part and not part.startswith("{"))


@dataclass(frozen=True)
class Caller:
    """Who the authorizer let through: a seller's token claims (Cognito) or the signer (IAM)."""

    claims: dict[str, str] | None = None
    principal: Principal | None = None


@dataclass
class AccessLogEntry:
    """What the access log says about one request."""

    function: str = "-"
    status: int = 0


class Gateway:
    def __init__(
        self,
        *,
        routes: list[Route],
        functions: Functions,
        cognito: CognitoAuthorizer,
        sigv4: SigV4Authorizer,
        cors: CorsPolicy,
        gateway_response_headers: dict[str, dict[str, str]],
        local_routes: Callable[[Request, bytes], Response] | None,
        account_id: str,
        api_id: str,
        stage: str,
        identity_header: str = "Authorization",
    ):
        by_path: dict[str, list[Route]] = {}
        for route in routes:
            by_path.setdefault(route.path, []).append(route)
        # Literal segments win over path parameters, as in API Gateway.
        self._resources = sorted(
            (_Resource.of(path, found) for path, found in by_path.items()), key=lambda r: -r.literal_segments
        )
        self._functions = functions
        self._cognito = cognito
        self._sigv4 = sigv4
        self._cors = cors
        self._gateway_response_headers = gateway_response_headers
        self._local_routes = local_routes
        self._identity_header = identity_header  # where the Cognito authorizer looks for the token
        self._events = ProxyEvents(account_id=account_id, api_id=api_id, stage=stage)
        self.log_requests = True

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        call = AccessLogEntry()
        try:
            response = self._handle(request, call)
        except Exception:
            # The emulator's own failure: log it here, never send it to the caller.
            log.error("local gateway error on %s %s\n%s", request.method, request.path, traceback.format_exc())
            response = self.gateway_response(500, "Internal server error", "InternalServerErrorException", request)
        call.status = response.status_code
        if self.log_requests:
            access_log.info(
                "%s %s %s %d %.1f ms",
                request.method,
                request.full_path.rstrip("?"),
                call.function,
                call.status,
                (time.perf_counter() - started) * 1000,
            )
        return response(environ, start_response)

    def _handle(self, request: Request, call: AccessLogEntry) -> Response:
        """What API Gateway does with a request, in its order: route, preflight, body, authorizer, function."""
        raw_path = _raw_path(request)
        if raw_path.startswith("/_local/") and self._local_routes is not None:
            call.function = "(local)"
            return self._local(request, self._local_routes)
        resource = self._match(raw_path)
        if resource is None:
            return self._missing_token(request)
        if request.method == "OPTIONS":
            call.function = "(preflight)"
            return self._preflight(request)
        route = resource.methods.get(request.method)
        if route is None:
            return self._missing_token(request)
        body = self._read_body(request)
        if isinstance(body, Response):
            return body
        caller = self._authorize(request, route, raw_path, body)
        if isinstance(caller, Response):
            return caller
        call.function = route.function
        return self._integrate(request, route, body, caller)

    def _local(self, request: Request, local_routes: Callable[[Request, bytes], Response]) -> Response:
        """The /_local/ routes, which only the local stack has (CORS as the API's, for the portal)."""
        if request.method == "OPTIONS":
            return self._preflight(request)
        body = self._read_body(request)
        if isinstance(body, Response):
            return body
        response = local_routes(request, body)
        response.headers["Access-Control-Allow-Origin"] = self._cors.origin_for(request.headers.get("Origin"))
        response.headers["Vary"] = "Origin"
        return response

    def _authorize(self, request: Request, route: Route, raw_path: str, body: bytes) -> Caller | Response:
        """The route's authorizer: a SigV4 signature for AWS_IAM routes (403), else a Cognito ID token (401)."""
        if route.authorizer == "AWS_IAM":
            signed = SignedRequest(
                method=request.method,
                raw_path=raw_path,
                raw_query=request.environ.get("QUERY_STRING", ""),
                headers=list(request.headers.items()),
                body=body,
            )
            principal = self._sigv4.authorize(signed)
            if isinstance(principal, Denied):
                return self.gateway_response(403, principal.message, principal.error_type, request)
            return Caller(principal=principal)
        claims = self._cognito.claims(request.headers.get(self._identity_header))
        if claims is None:
            return self.gateway_response(401, "Unauthorized", "UnauthorizedException", request)
        return Caller(claims=claims)

    def _integrate(self, request: Request, route: Route, body: bytes, caller: Caller) -> Response:
        """The Lambda proxy integration: the event to the route's function, its answer back as HTTP (502 if bad)."""
        event = self._events.event(request, route, body, claims=caller.claims, principal=caller.principal)
        try:
            result = self._functions.invoke(route.function, event)
        except InvocationFailed:
            return self.gateway_response(502, "Internal server error", "InternalServerErrorException", request)
        response = _proxy_response(result)
        if response is None:
            log.error("%s returned %r, which is not a Lambda proxy response", route.function, type(result).__name__)
            return self.gateway_response(502, "Internal server error", "InternalServerErrorException", request)
        response.headers["x-amzn-RequestId"] = event["requestContext"]["requestId"]
        return response

    # -- what API Gateway answers itself ---------------------------------------------------

    def gateway_response(self, status: int, message: str, error_type: str, request: Request) -> Response:
        """An answer of API Gateway's own, with the headers of the template's GatewayResponses."""
        headers = Headers({"Content-Type": "application/json", "x-amzn-ErrorType": error_type})
        kind = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        for name, value in self._gateway_response_headers.get(kind, {}).items():
            if name.lower() == "access-control-allow-origin":
                value = self._cors.origin_for(request.headers.get("Origin"))
            headers[name] = value
        if "Access-Control-Allow-Origin" in headers:
            headers["Vary"] = "Origin"
        headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return Response(json.dumps({"message": message}), status=status, headers=headers)

    def _missing_token(self, request: Request) -> Response:
        # API Gateway's answer for any path or method that no resource defines.
        return self.gateway_response(
            403, "Missing Authentication Token", "MissingAuthenticationTokenException", request
        )

    def _preflight(self, request: Request) -> Response:
        """SAM's CORS preflight: a mock integration answering 200 with the configured headers."""
        headers = self._cors.preflight_headers(request.headers.get("Origin"))
        return Response(b"", status=200, headers=headers, content_type="application/json")

    # -- request -> event ------------------------------------------------------------------

    def _match(self, raw_path: str) -> _Resource | None:
        return next((resource for resource in self._resources if resource.pattern.fullmatch(raw_path)), None)

    def _read_body(self, request: Request) -> bytes | Response:
        """The body; or API Gateway's own answer when it is over the limit (read off and dropped: 413)
        or shorter than its Content-Length because the client hung up (400)."""
        too_long = self.gateway_response(413, "Request Too Long", "RequestTooLarge", request)
        stream = request.stream
        try:
            if request.content_length is not None and request.content_length > MAX_PAYLOAD_BYTES:
                _drain(stream)
                return too_long
            chunks, size = [], 0
            while size <= MAX_PAYLOAD_BYTES:
                chunk = stream.read(min(65536, MAX_PAYLOAD_BYTES + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > MAX_PAYLOAD_BYTES:
                _drain(stream)
                return too_long
        except ClientDisconnected:
            ended = "The body ended before its Content-Length"
            return self.gateway_response(400, ended, "BadRequestException", request)
        return b"".join(chunks)


class ProxyEvents:
    """The Lambda proxy integration's event for a request, as API Gateway (REST API, v1 format) builds it."""

    def __init__(self, *, account_id: str, api_id: str, stage: str):
        self._account_id = account_id
        self._api_id = api_id
        self._stage = stage

    def event(
        self,
        request: Request,
        route: Route,
        body: bytes,
        *,
        claims: dict[str, str] | None = None,
        principal: Principal | None = None,
    ) -> dict[str, Any]:
        """The proxy event API Gateway sends the route's function for `request`, once authorized."""
        raw_path = _raw_path(request)
        found = _Resource.of(route.path, [route]).pattern.fullmatch(raw_path)
        parameters = {name: unquote(value) for name, value in (found.groupdict() if found else {}).items()}
        context = self._request_context(request, route, raw_path, str(uuid.uuid4()))
        if claims is not None:
            context["authorizer"] = {"claims": claims}
        if principal is not None:
            context["identity"].update(
                accountId=principal.account_id,
                accessKey=principal.access_key_id,
                caller=principal.user_id,
                user=principal.user_id,
                userArn=principal.arn,
            )
        return self._event(request, route, raw_path, parameters, body, context)

    def _request_context(self, request: Request, route: Route, raw_path: str, request_id: str) -> dict[str, Any]:
        now = time.time()
        host = request.headers.get("Host", "127.0.0.1")
        return {
            "resourceId": hashlib.sha256(route.path.encode()).hexdigest()[:6],
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:9]).decode(),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            # Locally the API is served at `/`, as through a custom domain mapped without a base path.
            "path": raw_path,
            "accountId": self._account_id,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": self._stage,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "requestId": request_id,
            "domainName": host,
            "apiId": self._api_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.remote_addr,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.headers.get("User-Agent"),
                "user": None,
            },
            "authorizer": None,
        }

    def _event(
        self,
        request: Request,
        route: Route,
        raw_path: str,
        parameters: dict[str, str],
        body: bytes,
        context: dict[str, Any],
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        added = {
            "X-Forwarded-For": request.remote_addr or "127.0.0.1",
            "X-Forwarded-Port": str(request.environ.get("SERVER_PORT", "")),
            "X-Forwarded-Proto": "http",
            "X-Amzn-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
        }
        for name, value in [*request.headers.items(), *added.items()]:
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        query = request.args
        text: str | None = None
        encoded = False
        if body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                # Bytes that are not UTF-8 arrive base64-encoded, as with binary media types.
                text, encoded = base64.b64encode(body).decode(), True
        return {
            "resource": route.path,
            "path": unquote(raw_path),
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {name: query.getlist(name)[-1] for name in query} or None,
            "multiValueQueryStringParameters": {name: query.getlist(name) for name in query} or None,
            "pathParameters": parameters or None,
            "stageVariables": None,
            "requestContext": context,
            "body": text,
            "isBase64Encoded": encoded,
        }


def _raw_path(request: Request) -> str:
    """The path as the client sent it (still percent-encoded), which is what SigV4 signs."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return urlsplit(raw).path or "/"
    return request.path


def _drain(stream: Any) -> None:
    read = 0
    while read < _MAX_DRAIN_BYTES:
        chunk = stream.read(65536)
        if not chunk:
            return
        read += len(chunk)


def _proxy_response(result: Any) -> Response | None:
    """The HTTP response for a Lambda proxy integration's answer, None when the answer is malformed."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return None
    headers = _proxy_headers(result.get("headers") or {}, result.get("multiValueHeaders") or {})
    payload = _proxy_body(result.get("body") or "", bool(result.get("isBase64Encoded")))
    if headers is None or payload is None:
        return None
    return Response(payload, status=result["statusCode"], headers=headers)


def _proxy_headers(single: Any, multi: Any) -> Headers | None:
    """API Gateway merges the two; a name in multiValueHeaders takes its values from there."""
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return None
    headers = Headers()
    for name, value in single.items():
        if name not in multi:
            headers.add(name, str(value))
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.add(name, str(value))
    if "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    return headers


def _proxy_body(body: Any, base64_encoded: bool) -> bytes | None:
    if not isinstance(body, str):
        return None
    if not base64_encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None
