"""Every problem+json answer (RFC 9457) the API gives, built in one place: status, code, title, detail.

api.py's exception handlers and its refusals before routing answer with these, and so do the
local stack's own routes, so that every error a caller sees has the same shape and wording. The
notification room words its own few (orders.notification.http) with `problem`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from orders import item
from orders.domain import MAX_EDITS, MAX_HISTORY, MAX_SPLITS, Action, OrderStatus, Refusal
from orders.item import OrderItem
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


def precondition_failed(order: OrderItem) -> ProblemAnswer:
    """412: the caller's If-Match names another version than the order's."""
    version = order[item.VERSION]
    return problem(
        HTTPStatus.PRECONDITION_FAILED,
        "PRECONDITION_FAILED",
        f"Order {order[item.KEY]} changed since you read it: it is now at version {version}. "
        "Read it again, then send your change with its ETag.",
        title="The order changed meanwhile",
        order_status=order[item.STATUS],
        version=version,
    )


def refused(refusal: Refusal, action: Action, order: OrderItem) -> ProblemAnswer:
    """The 409 of a command the order's state forbids, explained from the order as it stood."""
    return problem(
        HTTPStatus.CONFLICT,
        refusal.value,
        _refusal_detail(refusal, action, order),
        title=refusal.value.replace("_", " ").capitalize(),
        order_status=order[item.STATUS],
        # A retried split meets this: the order it made is named for a machine, not only in the detail.
        split_into=list(order.get(item.SPLIT_INTO, [])) if refusal == Refusal.NOTHING_IN_STOCK else None,
    )


@dataclass(frozen=True)
class _Refused:
    """What a refusal's detail speaks of: the command, and the order as it stood."""

    action: Action
    order: OrderItem

    @property
    def order_id(self) -> str:
        return self.order[item.KEY]

    @property
    def status(self) -> str:
        return self.order[item.STATUS]

    @property
    def editing(self) -> bool:
        return self.action in (Action.EDIT, Action.EDIT_ITEMS)

    @property
    def verb(self) -> str:
        return {Action.SPLIT: "split"}.get(self.action, "edited" if self.editing else "cancelled")

    def split_into(self) -> str:
        return ", ".join(self.order.get(item.SPLIT_INTO, [])) or "no order"

    def request(self, field: str) -> Any:
        request: Mapping[str, Any] = item.request_of(self.order) or {}
        return request.get(field)

    def reached(self, status: OrderStatus) -> str:
        return item.reached_at(self.order, status) or "an earlier time"


# Each refusal's detail, in words, from the order as it stood.
_DETAILS: dict[Refusal, Callable[[_Refused], str]] = {
    Refusal.ORDER_NOT_IN_WAREHOUSE: lambda it: (
        f"Order {it.order_id} is {it.status}: it has not been sent to the warehouse, so cancel it directly."
    ),
    Refusal.ORDER_IN_WAREHOUSE: lambda it: (
        f"Order {it.order_id} is {it.status} in the warehouse; it can no longer be edited. "
        "Request a cancellation instead, and send the order again as it should be."
        if it.editing
        else f"Order {it.order_id} is {it.status} in the warehouse; it can no longer be split."
        if it.action == Action.SPLIT
        else f"Order {it.order_id} is {it.status} in the warehouse; it can only be cancelled by request."
    ),
    Refusal.CANCELLATION_PENDING: lambda it: (
        f"A cancellation of order {it.order_id} was requested at {it.request('requested_at')}; "
        "the warehouse has not decided yet."
    ),
    Refusal.CANCELLATION_REJECTED: lambda it: (
        f"The warehouse rejected the cancellation of order {it.order_id} at {it.request('decided_at')} "
        f"({it.request('decision_reason_code')}); it cannot be requested again."
    ),
    Refusal.ORDER_DESPATCHED: lambda it: (
        f"Order {it.order_id} was despatched at {it.reached(OrderStatus.DESPATCHED)}; it can no longer be {it.verb}."
    ),
    Refusal.ORDER_CANCELLED: lambda it: (
        f"Order {it.order_id} was cancelled at {it.reached(OrderStatus.CANCELLED)}; it must not be changed or shipped."
    ),
    Refusal.DECISION_CONFLICT: lambda it: (
        f"The cancellation of order {it.order_id} was already {it.request('status')} "
        f"at {it.request('decided_at')}; a decision cannot be changed."
    ),
    Refusal.NO_CANCELLATION_REQUEST: lambda it: (
        f"Order {it.order_id} ({it.status}) has no cancellation request to decide."
    ),
    Refusal.INVALID_TRANSITION: lambda it: (
        f"Order {it.order_id} is {it.status}; it cannot move to {it.action.target_status}."
    ),
    Refusal.EDIT_LIMIT: lambda it: (
        f"Order {it.order_id} has been edited {MAX_EDITS} times, as many as an order can be; "
        "to change it again, cancel it and send it anew."
    ),
    Refusal.ORDER_NOT_DESPATCHED: lambda it: (
        f"Order {it.order_id} is {it.status}: it has not been despatched, so the courier has nothing to track."
    ),
    Refusal.NOT_ON_BACKORDER: lambda it: (
        f"Order {it.order_id} is {it.status}, not on backorder: only an order on backorder can be split."
    ),
    Refusal.NOTHING_IN_STOCK: lambda it: (
        f"Every line of order {it.order_id} waits for stock: there is nothing to ship yet "
        f"(already split into {it.split_into()})."
    ),
    Refusal.SPLIT_LIMIT: lambda it: (
        f"Order {it.order_id} has been split {MAX_SPLITS} times, as many as an order can be."
    ),
    Refusal.HISTORY_LIMIT: lambda it: (
        f"Order {it.order_id} has {MAX_HISTORY} changes in its history, as many as an order can hold; "
        "it can no longer change (it was written before this bound existed)."
    ),
}


def reference_taken(order: OrderItem, reference: str, taken_by: str) -> ProblemAnswer:
    """409: the reference a split would give its new order is one the seller already used."""
    return problem(
        HTTPStatus.CONFLICT,
        "REFERENCE_TAKEN",
        f"Splitting order {order[item.KEY]} would make an order with reference {reference}, which your order "
        f"{taken_by} already has; nothing was changed. Ship it whole when stock arrives, or cancel and resend it.",
        title="Reference taken",
        order_status=order[item.STATUS],
    )


def _refusal_detail(refusal: Refusal, action: Action, order: OrderItem) -> str:
    return _DETAILS[refusal](_Refused(action, order))


def tracking_refused(refusal: Refusal, order: OrderItem) -> ProblemAnswer:
    """The 409 of tracking events for an order that is not despatched (docs/api.md §12), or full (§15)."""
    return problem(
        HTTPStatus.CONFLICT,
        refusal.value,
        _refusal_detail(refusal, Action.MOVE_TO_DESPATCHED, order),
        title=refusal.value.replace("_", " ").capitalize(),
        order_status=order[item.STATUS],
    )
