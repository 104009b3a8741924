"""The one place HTTP meets the domain: the resolver, CORS, the caller's identity, the responses.

Every handler module registers its route on the shared `app` and exports `handler`.
Errors become HTTP here, in exception handlers (their bodies come from problems.py), so no
route has a try/except. The notification room registers its own path parameter and exception
handlers on the same `app` (orders.notification.http); this module knows nothing of it.
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
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import StringConstraints
from pydantic.json_schema import SkipJsonSchema

from orders import item, problems
from orders.domain import Action, Seller, State, Transition
from orders.dynamodb import InvalidPageToken, StoreUnavailable
from orders.item import OrderItem
from orders.models import ORDER_ID_PATTERN, FieldError, Order, Problem, to_order
from orders.observability import logger, metrics, tracer
from orders.problems import ProblemAnswer
from orders.settings import settings
from orders.store import (
    Applied,
    BackorderLinesRefused,
    OrderNotFound,
    OrderStore,
    PreconditionFailed,
    ReferenceTaken,
    RefusalError,
)
from orders.tracking_store import TrackingRefused, TrackingStore

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
            "Access-Control-Expose-Headers": "ETag",
            "Vary": "Origin",
        }


# ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
_LOCALHOST_ORIGIN = re.compile(r"http://(?:localhost|127\.0\.0\.1):(?P<port>[0-9]{1,5})", re.ASCII)


def _is_localhost(origin: str) -> bool:
    found = _LOCALHOST_ORIGIN.fullmatch(origin)
    return found is not None and 0 < int(found["port"]) < 65536


def _json_body(text: str) -> Any:
    """The body as JSON. Whatever json.loads cannot read, or an object with a key twice, is malformed
    JSON (400), never a 500 and never a guess:
    Powertools turns only JSONDecodeError into a validation error, and json.loads also raises
    ValueError (an integer of more than 4300 digits) and RecursionError (nesting too deep)."""
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicate_keys)
    except json.JSONDecodeError:
        raise
    except DuplicateKey as error:
        raise json.JSONDecodeError(str(error), text, 0) from None
    except (ValueError, RecursionError) as error:
        reason = "nesting too deep" if isinstance(error, RecursionError) else "number too long"
        raise json.JSONDecodeError(reason, text, 0) from None


class DuplicateKey(ValueError):
    """A JSON object names a key twice: which one should count is anybody's guess, so neither does."""


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise DuplicateKey(f"duplicate key {json.dumps(name)}")
            seen.add(name)
    return found


cors = PortalCors()
app = APIGatewayRestResolver(enable_validation=True, cors=cors, json_body_deserializer=_json_body)

OrderId = Annotated[str, Path(pattern=ORDER_ID_PATTERN, description="An order id, as returned by POST /orders")]
# Each path parameter's pattern, checked before routing (see _refusal_before_routing).
_PATH_PARAMETERS: dict[str, re.Pattern[str]] = {}


def path_parameter(name: str, pattern: str) -> None:
    """Check the path parameter `name` against `pattern` as API Gateway extracted it, before routing."""
    _PATH_PARAMETERS[name] = re.compile(pattern)


path_parameter("order_id", ORDER_ID_PATTERN)


class FieldRefused(Exception):
    """A field that passed the model but not a rule beyond it (a webhook URL's host): 400 naming it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class NotASeller(Exception):
    """A valid token without the custom:seller_id claim."""


@cache
def order_store() -> OrderStore:
    return OrderStore()


@cache
def tracking_store() -> TrackingStore:
    return TrackingStore()


def seller() -> Seller:
    """The calling seller: only ever the authorizer's `custom:seller_id` claim."""
    claims = app.current_event.request_context.authorizer.claims or {}
    seller_id = claims.get("custom:seller_id")
    if not isinstance(seller_id, str) or not seller_id:
        raise NotASeller
    logger.append_keys(seller_id=seller_id)
    return Seller(seller_id)


def command_response(action: Action, applied: Applied, success: HTTPStatus = HTTPStatus.OK) -> Response[Order]:
    """The order after a command, and one metric for what the command did."""
    outcome = applied.outcome
    metric = outcome.event.value if isinstance(outcome, Transition) else f"{action.value}_UNCHANGED"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return order_response(applied.order, success, applied.state)


def order_response(order: OrderItem, status: HTTPStatus = HTTPStatus.OK, state: State | None = None) -> Response[Order]:
    logger.append_keys(order_id=order[item.KEY])
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=to_order(order, state),
        headers={"ETag": etag(order[item.VERSION])},
    )


def etag(version: int) -> str:
    """An order's entity tag: its version, quoted (a strong tag: the version changes with every change)."""
    return f'"{version}"'


# An entity tag (RFC 9110 §8.8.3, without a comma inside, which would make a list ambiguous here).
_TAG_CHARACTERS = r"[\x21\x23-\x2b\x2d-\x7e]*"
_TAG = rf'(W/)?"{_TAG_CHARACTERS}"'
# A list of them (RFC 9110 §5.6.1): empty elements ("9" , and , "9") are allowed and ignored; one tag at least.
IF_MATCH_PATTERN = rf"^[ \t]*(\*|(,[ \t]*)*{_TAG}([ \t]*,([ \t]*{_TAG})?)*)[ \t]*$"
_ENTITY_TAG = re.compile(rf'[ \t]*(?P<weak>W/)?"(?P<tag>{_TAG_CHARACTERS})"[ \t]*', re.ASCII)
# The tag of a version, as `etag` writes it: its decimal digits, no sign, no leading zero.
_VERSION_TAG = re.compile(r"0|[1-9][0-9]{0,17}", re.ASCII)


MAX_IF_MATCH_TAGS = 20
IF_MATCH_MESSAGE = 'If-Match should be "<version>" (an ETag this API gave), a list of them, or *'


# The optional If-Match header of a command on one order (PATCH, split), as its handler declares it.
IfMatch = Annotated[
    Annotated[str, StringConstraints(pattern=IF_MATCH_PATTERN)] | SkipJsonSchema[None],
    Header(alias="If-Match", description='The ETag of the order as read ("<version>"): 412 if it changed since'),
]


class MalformedIfMatch(ValueError):
    pass


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """The versions an If-Match header names; None when it names none (`*`, or no header).

    Entity tags are compared strongly and as strings (RFC 9110 §8.8.3.2): a weak tag never matches,
    `"07"` is not the tag of version 7 (`"7"` is), and a tag that is not one of ours ("abc") matches no
    version either. Empty list elements are ignored, as RFC 9110 §5.6.1 asks of a recipient.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    parts = [part for part in if_match.split(",") if part.strip(" \t")]
    if not parts:
        raise MalformedIfMatch(IF_MATCH_MESSAGE)
    if len(parts) > MAX_IF_MATCH_TAGS:
        # DynamoDB takes at most 100 operands in one IN; a client never needs more than a few.
        raise MalformedIfMatch(f"If-Match names at most {MAX_IF_MATCH_TAGS} ETags")
    versions: set[int] = set()
    for part in parts:
        found = _ENTITY_TAG.fullmatch(part)
        if found is None:
            raise MalformedIfMatch(IF_MATCH_MESSAGE)
        if not found["weak"] and _VERSION_TAG.fullmatch(found["tag"]):
            versions.add(int(found["tag"]))
    return frozenset(versions)


def documented(
    success: HTTPStatus,
    description: str,
    *failures: HTTPStatus,
    body: Any = Order,
    also: dict[HTTPStatus, str] | None = None,
) -> dict[int, Any]:
    """The OpenAPI responses of a route: its successes (`also`: other success statuses), and its problems."""
    responses: dict[int, Any] = {
        status: {"description": text, "content": {content_types.APPLICATION_JSON: {"model": body}}}
        for status, text in {success: description, **(also or {})}.items()
    }
    for status in (HTTPStatus.BAD_REQUEST, *failures, HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.SERVICE_UNAVAILABLE):
        responses[status] = {"description": status.phrase, "content": {problems.MEDIA_TYPE: {"model": Problem}}}
    return responses


# -- errors ------------------------------------------------------------------------------


def problem_response(answer: ProblemAnswer) -> Response[str]:
    return Response(
        status_code=answer.status, content_type=problems.MEDIA_TYPE, body=answer.body(), headers=answer.headers
    )


def _field_error(error: dict[str, Any]) -> FieldError:
    """A pydantic error as {"field", "message"}: `items[0].quantity`, `order_id`, `limit` or `body`."""
    location = tuple(error.get("loc") or ("body",))
    if error.get("type") == "json_invalid":
        return FieldError(field="body", message=f"Malformed JSON: {error.get('ctx', {}).get('error', 'invalid')}")
    if location[:2] == ("header", "if-match"):
        return FieldError(field="If-Match", message=IF_MATCH_MESSAGE)
    field = ""
    for part in location[1:]:
        field += f"[{part}]" if isinstance(part, int) else f".{part}"
    return FieldError(field=field.lstrip(".") or str(location[0]), message=error.get("msg") or error["type"])


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[str]:
    errors = [_field_error(e) for e in error.errors()]
    # A value refused by each branch of a union (`str | None`) is one error to the caller, not two.
    return problem_response(problems.invalid(list({(e.field, e.message): e for e in errors}.values())))


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[str]:
    return problem_response(problems.unsupported_media_type())


@app.exception_handler(FieldRefused)
def _field_refused(error: FieldRefused) -> Response[str]:
    return problem_response(problems.invalid_field(error.field, error.message))


@app.exception_handler(InvalidPageToken)
def _invalid_page_token(error: InvalidPageToken) -> Response[str]:
    return problem_response(problems.invalid_field("next_token", str(error)))


@app.exception_handler(UnicodeDecodeError)
def _undecodable_body(error: UnicodeDecodeError) -> Response[str]:
    return problem_response(problems.invalid_field("body", "not UTF-8 encoded JSON"))


@app.exception_handler(OrderNotFound)
def _order_not_found(error: OrderNotFound) -> Response[str]:
    return problem_response(problems.order_not_found(error.order_id))


@app.exception_handler(RefusalError)
def _refused(refused: RefusalError) -> Response[str]:
    order = refused.order
    metrics.add_metric(name=f"{refused.action.value}_REFUSED_{refused.refusal.value}", unit=MetricUnit.Count, value=1)
    logger.info("command refused", extra={"order_id": order[item.KEY], "code": refused.refusal.value})
    return problem_response(problems.refused(refused.refusal, refused.action, order))


@app.exception_handler(TrackingRefused)
def _tracking_refused(refused: TrackingRefused) -> Response[str]:
    order = refused.order
    metrics.add_metric(name=f"TRACKING_REFUSED_{refused.refusal.value}", unit=MetricUnit.Count, value=1)
    logger.info("tracking refused", extra={"order_id": order[item.KEY], "code": refused.refusal.value})
    return problem_response(problems.tracking_refused(refused.refusal, order))


@app.exception_handler(BackorderLinesRefused)
def _backorder_lines_refused(error: BackorderLinesRefused) -> Response[str]:
    errors = [FieldError(field=f"backordered_items[{index}]", message=why) for index, why in error.mismatches]
    return problem_response(problems.invalid(errors))


@app.exception_handler(ReferenceTaken)
def _reference_taken(error: ReferenceTaken) -> Response[str]:
    metrics.add_metric(name="SPLIT_REFUSED_REFERENCE_TAKEN", unit=MetricUnit.Count, value=1)
    return problem_response(problems.reference_taken(error.original, error.reference, error.taken_by))


@app.exception_handler(PreconditionFailed)
def _precondition_failed(error: PreconditionFailed) -> Response[str]:
    return problem_response(problems.precondition_failed(error.order))


@app.exception_handler(MalformedIfMatch)
def _malformed_if_match(error: MalformedIfMatch) -> Response[str]:
    return problem_response(problems.invalid_field("If-Match", str(error)))


@app.exception_handler(StoreUnavailable)
def _store_unavailable(error: StoreUnavailable) -> Response[str]:
    logger.warning("DynamoDB throttled after retries", extra={"error": str(error)})
    return problem_response(problems.unavailable(settings().retry_after_seconds))


@app.exception_handler(NotASeller)
def _not_a_seller(error: NotASeller) -> Response[str]:
    return problem_response(problems.not_a_seller())


@app.not_found
def _no_such_route(error: NotFoundError) -> Response[str]:
    return problem_response(problems.no_such_route())


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[str]:
    logger.exception("unexpected error")
    return problem_response(problems.internal_error())


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
        return _early_problem(event, problems.too_large(MAX_BODY_BYTES))
    media_type = _media_type(event)
    if event.get("body") and media_type is not None and media_type != "application/json":
        # Form bodies and malformed types (multipart without a boundary) never reach a parser.
        return _early_problem(event, problems.unsupported_media_type())
    parameters = event.get("pathParameters") or {}
    for name, compiled in _PATH_PARAMETERS.items():
        value = parameters.get(name)
        if value is not None and not compiled.fullmatch(value):
            message = f"String should match pattern '{compiled.pattern}'"
            return _early_problem(event, problems.invalid_field(name, message))
    return None


def _media_type(event: dict[str, Any]) -> str | None:
    """The Content-Type's media type, in lower case, without parameters; None when there is no header."""
    headers = event.get("headers") or {}
    value = next((value for name, value in headers.items() if name.lower() == "content-type"), None)
    return None if value is None else value.partition(";")[0].strip().lower()


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


def _early_problem(event: dict[str, Any], answer: ProblemAnswer) -> dict[str, Any]:
    """A problem answered before routing, with the CORS headers that routing would have added."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": problems.MEDIA_TYPE, **answer.headers, **cors.to_dict(headers.get("origin"))},
        "body": answer.body(),
        "isBase64Encoded": False,
    }
