"""Every problem+json answer (RFC 9457) the API gives, built in one place: status, code, title, detail.

api.py's exception handlers and its refusals before routing answer with these, and so do the
local stack's own routes, so that every error a caller sees has the same shape and wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from orders import stored
from orders.domain import Action, OrderStatus, Refusal
from orders.models import FieldError, Problem

MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemAnswer:
    """A problem document and the headers that go with it."""

    status: HTTPStatus
    document: Problem
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> str:
        return self.document.model_dump_json(exclude_none=True)


def problem(
    status: HTTPStatus,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemAnswer:
    document = Problem(title=title or status.phrase, status=status, code=code, detail=detail, **extra)
    return ProblemAnswer(status, document, headers or {})


def invalid(errors: list[FieldError]) -> ProblemAnswer:
    """400 VALIDATION_ERROR naming each field that is wrong."""
    return problem(
        HTTPStatus.BAD_REQUEST,
        "VALIDATION_ERROR",
        "The request is not valid: " + "; ".join(f"{error.field}: {error.message}" for error in errors),
        title="Invalid request",
        errors=errors,
    )


def invalid_field(name: str, message: str) -> ProblemAnswer:
    return invalid([FieldError(field=name, message=message)])


def unsupported_media_type() -> ProblemAnswer:
    return problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.")


def too_large(limit: int) -> ProblemAnswer:
    return problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE", f"The body is over {limit} bytes.")


def order_not_found(order_id: str) -> ProblemAnswer:
    return problem(HTTPStatus.NOT_FOUND, "ORDER_NOT_FOUND", f"There is no order {order_id}.", title="Order not found")


def no_such_route(detail: str = "There is no such route.") -> ProblemAnswer:
    return problem(HTTPStatus.NOT_FOUND, "NOT_FOUND", detail)


def method_not_allowed(path: str, method: str) -> ProblemAnswer:
    return problem(
        HTTPStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", f"{path} answers {method} only.", headers={"Allow": method}
    )


def channel_not_found(channel_id: str) -> ProblemAnswer:
    return problem(
        HTTPStatus.NOT_FOUND, "CHANNEL_NOT_FOUND", f"There is no channel {channel_id}.", title="Channel not found"
    )


def channel_limit(most: int) -> ProblemAnswer:
    return problem(
        HTTPStatus.CONFLICT,
        "CHANNEL_LIMIT",
        f"A seller has at most {most} notification channels; delete one before adding another.",
        title="Channel limit reached",
    )


def not_a_seller() -> ProblemAnswer:
    return problem(HTTPStatus.FORBIDDEN, "FORBIDDEN", "The token carries no custom:seller_id claim.")


def unavailable(retry_after_seconds: int) -> ProblemAnswer:
    return problem(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        f"The service is busy; nothing was changed. Retry after {retry_after_seconds} s.",
        headers={"Retry-After": str(retry_after_seconds)},
    )


def internal_error() -> ProblemAnswer:
    return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Something went wrong on our side.")


def precondition_failed(order: dict[str, Any]) -> ProblemAnswer:
    """412: the caller's If-Match names another version than the order's."""
    version = order[stored.VERSION]
    return problem(
        HTTPStatus.PRECONDITION_FAILED,
        "PRECONDITION_FAILED",
        f"Order {order[stored.KEY]} changed since you read it: it is now at version {version}. "
        "Read it again, then send your change with its ETag.",
        title="The order changed meanwhile",
        order_status=order[stored.STATUS],
        version=version,
    )


def refused(refusal: Refusal, action: Action, order: dict[str, Any]) -> ProblemAnswer:
    """The 409 of a command the order's state forbids, explained from the order as it stood."""
    return problem(
        HTTPStatus.CONFLICT,
        refusal.value,
        _refusal_detail(refusal, action, order),
        title=refusal.value.replace("_", " ").capitalize(),
        order_status=order[stored.STATUS],
    )


def _refusal_detail(refusal: Refusal, action: Action, order: dict[str, Any]) -> str:
    order_id, status = order[stored.KEY], order[stored.STATUS]
    request = stored.request_of(order)

    def reached(wanted: OrderStatus) -> str:
        return stored.reached_at(order, wanted) or "an earlier time"

    match refusal:
        case Refusal.ORDER_NOT_IN_WAREHOUSE:
            return f"Order {order_id} is {status}: it has not been sent to the warehouse, so cancel it directly."
        case Refusal.ORDER_IN_WAREHOUSE if action == Action.EDIT:
            return (
                f"Order {order_id} is {status} in the warehouse; it can no longer be edited. "
                "Request a cancellation instead, and send the order again as it should be."
            )
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
            despatched_at = reached(OrderStatus.DESPATCHED)
            what = "edited" if action == Action.EDIT else "cancelled"
            return f"Order {order_id} was despatched at {despatched_at}; it can no longer be {what}."
        case Refusal.ORDER_CANCELLED:
            cancelled_at = reached(OrderStatus.CANCELLED)
            return f"Order {order_id} was cancelled at {cancelled_at}; it must not be changed or shipped."
        case Refusal.DECISION_CONFLICT:
            return (
                f"The cancellation of order {order_id} was already {request.get('status')} "
                f"at {request.get('decided_at')}; a decision cannot be changed."
            )
        case Refusal.NO_CANCELLATION_REQUEST:
            return f"Order {order_id} ({status}) has no cancellation request to decide."
        case Refusal.INVALID_TRANSITION:
            return f"Order {order_id} is {status}; it cannot move to {action.target_status}."
    return f"Order {order_id} is {status}; the command is not allowed."
