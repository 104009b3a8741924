"""API Gateway REST proxy events as AWS sends them, for invoking handlers directly."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from infra.local.lambda_context import LambdaContext

__all__ = ["LambdaContext", "rest_event"]


def rest_event(
    method: str,
    resource: str,
    *,
    path_parameters: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | None = None,
    seller_id: str | None = None,
    warehouse: bool = False,
    query: dict[str, str] | None = None,
    headers: dict[str, str | None] | None = None,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """A REST API (v1) proxy event for `resource` (e.g. /orders/{order_id}/cancel)."""
    path_parameters = path_parameters or {}
    path = re.sub(r"\{(\w+)\}", lambda m: path_parameters[m.group(1)], resource)
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    request_headers = {"Content-Type": "application/json", "Host": "api.example.com", **(headers or {})}
    # A header given as None is left out (a request that does not send it).
    request_headers = {name: value for name, value in request_headers.items() if value is not None}
    request_id = str(uuid.uuid4())
    authorizer: dict[str, Any] | None = None
    identity: dict[str, Any] = {"sourceIp": "198.51.100.7", "userAgent": "pytest"}
    if seller_id is not None:
        authorizer = {
            "claims": {
                "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, seller_id)),
                "custom:seller_id": seller_id,
                "token_use": "id",
                "iss": "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_test",
            }
        }
    if warehouse:
        identity.update(
            {
                "accessKey": "AKIAWAREHOUSE0000000",
                "accountId": "123456789012",
                "caller": "AIDAWAREHOUSE",
                "user": "AIDAWAREHOUSE",
                "userArn": "arn:aws:iam::123456789012:user/warehouse",
            }
        )
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": request_headers,
        "multiValueHeaders": {name: [value] for name, value in request_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "accountId": "123456789012",
            "apiId": "testapi",
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": 1_795_000_000_000,
            "identity": identity,
            "authorizer": authorizer,
        },
        "body": raw_body,
        "isBase64Encoded": base64_encoded,
    }
