"""The one place HTTP meets the domain: the resolver, the caller's identity, and problem+json.

Every handler module registers its route on the shared `app` and exports `handler`.
Errors become HTTP here, in exception handlers, so no route has a try/except.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from orders.domain import Action, Refusal, Transition, Unchanged
from orders.models import ORDER_ID_PATTERN, FieldError, Order, Problem
from orders.observability import logger, metrics, tracer
from orders.settings import settings
from orders.store import (
    Applied,
    Caller,
    CommandRefused,
    InvalidPageToken,
    OrderNotFound,
    OrderStore,
    StoreUnavailable,
)

PROBLEM_JSON = "application/problem+json"
MAX_BODY_BYTES = 64 * 1024


class PortalCors(CORSConfig):
    """CORS for the portal's origin (read from settings when asked) and, locally, any localhost port."""

    def __init__(self) -> None:
        super().__init__(allow_origin="", max_age=600)

    def allowed_origin(self, extracted_origin: str | None) -> str | None:
        if not extracted_origin:
            return None
        config = settings()
        if extracted_origin == config.portal_origin:
            return extracted_origin
        if config.allow_localhost_origins and _is_localhost(extracted_origin):
            return extracted_origin
        return None

    def to_dict(self, origin: str | None) -> dict[str, str]:
        if not origin or self.allowed_origin(origin) is None:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": ",".join(sorted(self.allow_headers)),
            "Access-Control-Max-Age": str(self.max_age),
            "Vary": "Origin",
        }


def _is_localhost(origin: str) -> bool:
    for prefix in ("http://localhost:", "http://127.0.0.1:"):
        if origin.startswith(prefix):
            port = origin.removeprefix(prefix)
            return port.isdigit() and 0 < int(port) < 65536
    return False


def _json_body(text: str) -> Any:
    """The body as JSON. Whatever json.loads cannot read is malformed JSON (400), never a 500:
    Powertools turns only JSONDecodeError into a validation error, and json.loads also raises
    ValueError (an integer of more than 4300 digits) and RecursionError (nesting too deep)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        reason = "nesting too deep" if isinstance(error, RecursionError) else "number too long"
        raise json.JSONDecodeError(reason, text, 0) from None


cors = PortalCors()
app = APIGatewayRestResolver(enable_validation=True, cors=cors, json_body_deserializer=_json_body)

OrderId = Annotated[str, Path(pattern=ORDER_ID_PATTERN, description="An order id, as returned by POST /orders")]
_ORDER_ID = re.compile(ORDER_ID_PATTERN)


class NotASeller(Exception):
    """A valid token without the custom:seller_id claim."""


@cache
def orders() -> OrderStore:
    return OrderStore()


def seller() -> Caller:
    """The calling seller: only ever the authorizer's `custom:seller_id` claim."""
    claims = app.current_event.request_context.authorizer.claims or {}
    seller_id = claims.get("custom:seller_id")
    if not seller_id:
        raise NotASeller
    logger.append_keys(seller_id=seller_id)
    return Caller(seller_id=seller_id)


def command_response(action: Action, applied: Applied, success: HTTPStatus = HTTPStatus.OK) -> Response:
    """The order after a command, and one metric for what the command did."""
    outcome = applied.outcome
    if isinstance(outcome, Transition):
        metric = outcome.event.value
    else:
        metric = f"{action.value}_UNCHANGED"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return order_response(applied.order, success)


def order_response(item: dict[str, Any], status: HTTPStatus = HTTPStatus.OK) -> Response:
    logger.append_keys(order_id=item["order_id"])
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=Order.from_item(item))


def documented(
    success: HTTPStatus, description: str, *failures: HTTPStatus, body: Any = Order, also: dict | None = None
) -> dict:
    """The OpenAPI responses of a route: its successes (`also`: other success statuses), and its problems."""
    responses: dict[int, Any] = {
        status: {"description": text, "content": {content_types.APPLICATION_JSON: {"model": body}}}
        for status, text in {success: description, **(also or {})}.items()
    }
    for status in (HTTPStatus.BAD_REQUEST, *failures, HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.SERVICE_UNAVAILABLE):
        responses[status] = {"description": status.phrase, "content": {PROBLEM_JSON: {"model": Problem}}}
    return responses


# -- errors ------------------------------------------------------------------------------


def problem(
    status: HTTPStatus, code: str, detail: str, *, title: str | None = None, headers: dict | None = None, **extra: Any
) -> Response:
    body = Problem(title=title or status.phrase, status=status, code=code, detail=detail, **extra)
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=body.model_dump_json(exclude_none=True),
        headers=headers,
    )


def _field_error(error: dict[str, Any]) -> FieldError:
    """A pydantic error as {"field", "message"}: `items[0].quantity`, `order_id`, `limit` or `body`."""
    location = tuple(error.get("loc") or ("body",))
    if error.get("type") == "json_invalid":
        return FieldError(field="body", message=f"Malformed JSON: {error.get('ctx', {}).get('error', 'invalid')}")
    field = ""
    for part in location[1:]:
        field += f"[{part}]" if isinstance(part, int) else f".{part}"
    return FieldError(field=field.lstrip(".") or str(location[0]), message=error.get("msg") or error["type"])


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response:
    errors = [_field_error(e) for e in error.errors()]
    return problem(
        HTTPStatus.BAD_REQUEST,
        "VALIDATION_ERROR",
        "The request is not valid: " + "; ".join(f"{e.field}: {e.message}" for e in errors),
        title="Invalid request",
        errors=errors,
    )


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response:
    return problem(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json."
    )


@app.exception_handler(InvalidPageToken)
def _invalid_page_token(error: InvalidPageToken) -> Response:
    return problem(
        HTTPStatus.BAD_REQUEST,
        "VALIDATION_ERROR",
        str(error),
        title="Invalid request",
        errors=[FieldError(field="next_token", message=str(error))],
    )


@app.exception_handler(UnicodeDecodeError)
def _undecodable_body(error: UnicodeDecodeError) -> Response:
    return problem(
        HTTPStatus.BAD_REQUEST,
        "VALIDATION_ERROR",
        "The body is not UTF-8 encoded JSON.",
        title="Invalid request",
        errors=[FieldError(field="body", message="not UTF-8")],
    )


@app.exception_handler(OrderNotFound)
def _order_not_found(error: OrderNotFound) -> Response:
    return problem(HTTPStatus.NOT_FOUND, "ORDER_NOT_FOUND", f"There is no order {error.order_id}.", title="Order not found")


@app.exception_handler(CommandRefused)
def _refused(refusal: CommandRefused) -> Response:
    order = refusal.order
    metrics.add_metric(name=f"{refusal.action.value}_REFUSED_{refusal.code.value}", unit=MetricUnit.Count, value=1)
    logger.info("command refused", extra={"order_id": order["order_id"], "code": refusal.code.value})
    return problem(
        HTTPStatus.CONFLICT,
        refusal.code.value,
        _refusal_detail(refusal),
        title=refusal.code.value.replace("_", " ").capitalize(),
        order_status=order["status"],
    )


@app.exception_handler(StoreUnavailable)
def _store_unavailable(error: StoreUnavailable) -> Response:
    logger.warning("DynamoDB throttled after retries", extra={"error": str(error)})
    seconds = settings().retry_after_seconds
    return problem(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        f"The service is busy; nothing was changed. Retry after {seconds} s.",
        headers={"Retry-After": str(seconds)},
    )


@app.exception_handler(NotASeller)
def _not_a_seller(error: NotASeller) -> Response:
    return problem(HTTPStatus.FORBIDDEN, "FORBIDDEN", "The token carries no custom:seller_id claim.")


@app.not_found
def _no_such_route(error: NotFoundError) -> Response:
    return problem(HTTPStatus.NOT_FOUND, "NOT_FOUND", "There is no such route.")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    logger.exception("unexpected error")
    return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Something went wrong on our side.")


def _refusal_detail(refusal: CommandRefused) -> str:
    order = refusal.order
    order_id, status = order["order_id"], order["status"]
    request = order.get("cancellation_request") or {}

    def reached(wanted: str) -> str:
        return next((e["at"] for e in reversed(order["history"]) if e.get("to_status") == wanted), "an earlier time")

    match refusal.code:
        case Refusal.ORDER_NOT_IN_WAREHOUSE:
            return f"Order {order_id} is {status}: it has not been sent to the warehouse, so cancel it directly."
        case Refusal.ORDER_IN_WAREHOUSE:
            return f"Order {order_id} is {status} in the warehouse; it can only be cancelled by request."
        case Refusal.CANCELLATION_PENDING:
            return (
                f"A cancellation of order {order_id} was requested at {request.get('requested_at')}; "
                "the warehouse has not decided yet."
            )
        case Refusal.CANCELLATION_REJECTED:
            return (
                f"The warehouse rejected the cancellation of order {order_id} at {request.get('decided_at')} "
                f"({request.get('decision_reason_code')}); it cannot be requested again."
            )
        case Refusal.ORDER_DESPATCHED:
            return f"Order {order_id} was despatched at {reached('DESPATCHED')}; it can no longer be cancelled."
        case Refusal.ORDER_CANCELLED:
            return f"Order {order_id} was cancelled at {reached('CANCELLED')}; it must not be changed or shipped."
        case Refusal.DECISION_CONFLICT:
            return (
                f"The cancellation of order {order_id} was already {request.get('status')} "
                f"at {request.get('decided_at')}; a decision cannot be changed."
            )
        case Refusal.NO_CANCELLATION_REQUEST:
            return f"Order {order_id} ({status}) has no cancellation request to decide."
        case Refusal.INVALID_TRANSITION:
            return f"Order {order_id} is {status}; it cannot move to {refusal.action.target_status}."
    return f"Order {order_id} is {status}; the command is not allowed."


# -- the Lambda entry point ------------------------------------------------------------------


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """What every API function's `handler` is: refuse what routing would get wrong, then route."""
    refusal = _refusal_before_routing(event)
    if refusal is not None:
        return refusal
    return app.resolve(_with_lowercase_media_type(event), context)


def _refusal_before_routing(event: dict[str, Any]) -> dict[str, Any] | None:
    """413 for an oversized body; 400 for an order id that the gateway matched but that is malformed.

    The id is checked here, as API Gateway extracted it: Powertools matches the decoded path
    against its own pattern, so an id holding a slash, a NUL or other punctuation would be a
    404 "no such route", and one ending in a newline would be served as the id without it.
    """
    if _body_size(event) > MAX_BODY_BYTES:
        return _early_problem(
            event, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE", f"The body is over {MAX_BODY_BYTES} bytes."
        )
    order_id = (event.get("pathParameters") or {}).get("order_id")
    if order_id is not None and not _ORDER_ID.fullmatch(order_id):
        message = f"String should match pattern '{ORDER_ID_PATTERN}'"
        return _early_problem(
            event,
            HTTPStatus.BAD_REQUEST,
            "VALIDATION_ERROR",
            f"The request is not valid: order_id: {message}",
            title="Invalid request",
            errors=[FieldError(field="order_id", message=message)],
        )
    return None


def _with_lowercase_media_type(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its Content-Type's media type in lower case: media types are case-insensitive."""
    headers = event.get("headers") or {}
    name = next((name for name in headers if name.lower() == "content-type"), None)
    if name is None:
        return event
    media_type, _, parameters = headers[name].partition(";")
    value = media_type.strip().lower() + (f";{parameters}" if parameters else "")
    normalised = {**event, "headers": {**headers, name: value}}
    if name in (event.get("multiValueHeaders") or {}):
        normalised["multiValueHeaders"] = {**event["multiValueHeaders"], name: [value]}
    return normalised


def _body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return len(base64.b64decode(body, validate=False))
        except (binascii.Error, ValueError):
            return len(body)
    return len(body.encode("utf-8", errors="surrogatepass"))


def _early_problem(
    event: dict[str, Any], status: HTTPStatus, code: str, detail: str, *, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A problem answered before routing, with the CORS headers that routing would have added."""
    body = Problem(title=title or status.phrase, status=status, code=code, detail=detail, **extra)
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM_JSON, **cors.to_dict(headers.get("origin"))},
        "body": body.model_dump_json(exclude_none=True),
        "isBase64Encoded": False,
    }
