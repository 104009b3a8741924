"""The orders' HTTP bodies as pydantic models: what callers send, what they get back (`to_order` shows a
stored item as the `Order` callers see), and the errors.

The OpenAPI document (openapi.json) is generated from these models and the routes that use them; the
notification room's own bodies are in orders.notification.models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from orders import couriers, domain, item, tracking
from orders.countries import ALPHA_2
from orders.couriers import CourierStatus
from orders.domain import (
    CancellationOption,
    EditingOption,
    Event,
    OrderStatus,
    Refusal,
    RequestStatus,
    SellerReason,
    SplittingOption,
    State,
    WarehouseReason,
    cancellation_option,
    editing_option,
    splitting_option,
)
from orders.item import ListedOrder, OrderItem

ORDER_ID_PATTERN = r"^ord_[a-z2-7]{26}$"
# Text fields: no control characters and not only white space; notes may also hold tabs and line breaks.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_PRINTABLE)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE)]
Note = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
_COUNTRIES = frozenset(ALPHA_2)


def _iso_country(code: str) -> str:
    if code not in _COUNTRIES:
        raise PydanticCustomError("country", "Not an ISO 3166-1 alpha-2 country code")
    return code


Country = Annotated[
    str,
    AfterValidator(_iso_country),
    WithJsonSchema({"type": "string", "enum": list(ALPHA_2), "description": "ISO 3166-1 alpha-2 country code"}),
]


def _listed_courier_service(code: str) -> str:
    if code not in couriers.SERVICES_BY_CODE:
        raise PydanticCustomError("courier_service", "Not a listed courier service: see GET /courier-services")
    return code


# docs/api.md §12: a code of the catalogue (orders.couriers), on create and edit.
CourierServiceCode = Annotated[
    str,
    AfterValidator(_listed_courier_service),
    WithJsonSchema(
        {"type": "string", "enum": list(couriers.SERVICE_CODES), "description": "A code of GET /courier-services"}
    ),
]
Postcode = Annotated[
    str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]([A-Za-z0-9 \-]*[A-Za-z0-9])?$")
]


def _plain_digits(value: Any) -> Any:
    """A query string's number as written by people: digits only, no sign, space, underscore or leading zero."""
    if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value):
        raise PydanticCustomError("int_parsing", "Input should be a whole number written with digits only")
    return value


_PLAIN_NUMBER = re.compile(r"[1-9][0-9]{0,5}|0", re.ASCII)
PageLimit = Annotated[int, Field(ge=1, le=100), BeforeValidator(_plain_digits)]


class Model(BaseModel):
    # Each function validates with a few of these models only: each is built on its first use,
    # not for every function at import (a cold start cost of the models a function never uses).
    model_config = ConfigDict(defer_build=True)


class Body(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _integral(value: Any) -> Any:
    """JSON Schema's integer: `2.0` is the integer 2 (as a document's client may send it); `2.5`, `"2"`,
    `true` are not integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class LineItem(Body):
    sku: Code
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000), BeforeValidator(_integral)]


class Recipient(Body):
    name: Text
    address_line1: Text
    address_line2: Text | None = None
    city: Text
    postcode: Postcode
    country: Country = Field(description="ISO 3166-1 alpha-2 country code")


class NewOrder(Body):
    reference: Code = Field(description="The seller's own reference; unique per seller")
    items: Annotated[list[LineItem], Field(min_length=1, max_length=100)]
    recipient: Recipient
    courier_service: CourierServiceCode


EDITABLE_FIELDS = ("recipient", "courier_service", "items")


def _absent_not_null(schema: dict[str, Any]) -> None:
    """The edit's document: each field may be left out but never null (the validator refuses a null), and
    at least one is sent. The fields stay `X | None` for validation, so that errors name them plainly."""
    schema["minProperties"] = 1
    for name in EDITABLE_FIELDS:
        field = schema["properties"][name]
        kinds = [kind for kind in field.pop("anyOf", []) if kind != {"type": "null"}]
        field.pop("default", None)
        if kinds:
            field.update(kinds[0])


class OrderEdit(Body):
    """PATCH /orders/{order_id}: any of these, each replacing the whole field, validated as on create."""

    model_config = ConfigDict(json_schema_extra=lambda schema: _absent_not_null(schema))

    recipient: Recipient | None = None
    courier_service: CourierServiceCode | None = None
    items: Annotated[list[LineItem], Field(min_length=1, max_length=100)] | None = None
    # Not a field of the document: declared only so that the refusal names it in our words.
    reference: SkipJsonSchema[Any] = Field(None, exclude=True)

    @field_validator("reference", mode="before")
    @classmethod
    def _reference_is_the_orders_name(cls, value: Any) -> Any:
        raise PydanticCustomError("not_editable", "The reference names the order; it cannot be edited")

    @field_validator(*EDITABLE_FIELDS, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("null", "An edit replaces a field; it cannot remove one")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> OrderEdit:
        if not self.model_fields_set:
            raise PydanticCustomError("empty_edit", "Send at least one of recipient, courier_service, items")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, as they are stored."""
        return self.model_dump(mode="json", include=self.model_fields_set & set(EDITABLE_FIELDS))


class CancellationRequestBody(Body):
    reason_code: SellerReason | None = None
    note: Note | None = None


class CancellationDecisionBody(Body):
    # The document says what the validator below checks: a rejection names its reason.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"decision": {"const": "REJECTED"}}},
            "then": {
                "required": ["reason_code"],
                "properties": {"reason_code": {"$ref": "#/components/schemas/WarehouseReason"}},
            },
        }
    )

    decision: Literal["APPROVED", "REJECTED"]
    reason_code: WarehouseReason | None = Field(None, validate_default=True, description="Required to reject")
    note: Note | None = None

    @field_validator("reason_code", mode="after")
    @classmethod
    def _rejection_needs_a_reason(
        cls, reason_code: WarehouseReason | None, info: ValidationInfo
    ) -> WarehouseReason | None:
        if reason_code is None and info.data.get("decision") == "REJECTED":
            raise PydanticCustomError("missing", "Field required when the decision is REJECTED")
        return reason_code

    @property
    def action(self) -> domain.Action:
        approved = self.decision == "APPROVED"
        return domain.Action.APPROVE_CANCELLATION if approved else domain.Action.REJECT_CANCELLATION


# -- many orders at once (docs/api.md §13) ---------------------------------------------------------

MAX_BULK_ORDERS = 100
BulkOrderId = Annotated[str, StringConstraints(pattern=ORDER_ID_PATTERN)]


def _distinct(order_ids: list[str]) -> list[str]:
    repeated = sorted({order_id for order_id in order_ids if order_ids.count(order_id) > 1})
    if repeated:
        raise PydanticCustomError(
            "duplicates", "Each order id at most once; repeated: {repeated}", {"repeated": ", ".join(repeated)}
        )
    return order_ids


class BulkCancellationBody(Body):
    """POST /bulk-cancellations: cancel up to 100 of the seller's orders, each as its single command would."""

    order_ids: Annotated[
        list[BulkOrderId],
        Field(min_length=1, max_length=MAX_BULK_ORDERS, json_schema_extra={"uniqueItems": True}),
        AfterValidator(_distinct),
    ] = Field(description="1 to 100 distinct order ids; the results come back in this order")
    if_in_warehouse: Literal["SKIP", "REQUEST"] = Field(
        "SKIP",
        description="An order in the warehouse: SKIP answers the cancel's 409 ORDER_IN_WAREHOUSE; "
        "REQUEST sends POST /orders/{order_id}/cancellation-request for it",
    )
    reason_code: SellerReason | None = Field(None, description="The requests' reason (if_in_warehouse REQUEST)")
    note: Note | None = Field(None, description="The requests' note (if_in_warehouse REQUEST)")
    dry_run: StrictBool = Field(False, description="Write nothing; answer what each order's command would do now")


class BulkDecision(CancellationDecisionBody):
    order_id: BulkOrderId


def _distinct_decisions(decisions: list[BulkDecision]) -> list[BulkDecision]:
    _distinct([decision.order_id for decision in decisions])
    return decisions


class BulkDecisionBody(Body):
    """POST /warehouse/cancellation-decisions: decide up to 100 requests, each as its single decision would."""

    decisions: Annotated[
        list[BulkDecision],
        Field(min_length=1, max_length=MAX_BULK_ORDERS, description="1 to 100 decisions, one per order"),
        AfterValidator(_distinct_decisions),
    ]


class BackorderedItem(Body):
    line: Annotated[StrictInt, Field(ge=1, le=100, description="The line's 1-based position in the order's items")]
    sku: Code = Field(description="The sku the line holds")
    quantity: Annotated[
        StrictInt, Field(ge=1, le=10_000, description="How many of the line are short: at most its quantity")
    ]


def _a_day(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date", "Input should be a date, YYYY-MM-DD") from None
    return value


Day = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), AfterValidator(_a_day)]


class StatusUpdateBody(Body):
    status: Literal["ON_BACKORDER", "PENDING", "SENT_TO_WAREHOUSE", "PICKED", "PACKED", "DESPATCHED"]
    tracking_number: Code | None = None
    backordered_items: Annotated[list[BackorderedItem], Field(min_length=1, max_length=100)] | None = Field(
        None, description="ON_BACKORDER only, and required with it: the lines short of stock (docs/api.md §11)"
    )
    expected_at: Day | None = Field(None, description="ON_BACKORDER only: the day stock is expected, if known")

    @model_validator(mode="after")
    def _backorder_only_with_its_status(self) -> StatusUpdateBody:
        if self.status == "ON_BACKORDER" and not self.backordered_items:
            raise PydanticCustomError("missing", "backordered_items: required when the status is ON_BACKORDER")
        if self.status != "ON_BACKORDER" and (self.backordered_items or self.expected_at):
            raise PydanticCustomError("backorder", "backordered_items and expected_at go with ON_BACKORDER only")
        lines = [entry.line for entry in self.backordered_items or []]
        if len(set(lines)) != len(lines):
            raise PydanticCustomError("duplicate_line", "backordered_items: each line at most once")
        return self

    def backordered(self) -> tuple[dict[str, Any], ...] | None:
        """The backordered lines as they are stored."""
        return tuple(entry.model_dump() for entry in self.backordered_items) if self.backordered_items else None


# -- tracking (docs/api.md §12) ----------------------------------------------------------------

_OFFSET_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})", re.ASCII
)

_MINUTES = frozenset({"Z", *(f"{minute:02}" for minute in range(60))})  # an offset's last two characters


def _utc_time(value: str) -> str:
    """An ISO 8601 time with its offset, as the store writes times (UTC, microseconds): strings sort as times.
    At most FUTURE_TOLERANCE_SECONDS ahead of now: a carrier's clock drifts, but not by hours."""
    matched = _OFFSET_TIME.fullmatch(value)
    if not matched or matched.group(2)[-2:] not in _MINUTES:  # fromisoformat takes "+05:60" as +06:00
        raise PydanticCustomError("datetime", "Should be an ISO 8601 time with its offset: 2026-12-01T09:30:00Z")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("datetime", "Not a date and time that exists") from None
    if moment > datetime.now(UTC) + timedelta(seconds=tracking.FUTURE_TOLERANCE_SECONDS):
        raise PydanticCustomError("future", "More than an hour in the future")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # before 0001-01-01 once in UTC (0001-01-01T00:30:00+01:00): no such time
        raise PydanticCustomError("datetime", "Not a date and time that exists") from None
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _carrier_word(value: Any) -> Any:
    """A carrier's own word for a status ("InTransit", "in transit") as one of the nine; anything else as sent."""
    if isinstance(value, str):
        return couriers.normalise_status(value) or value
    return value


EventTime = Annotated[
    str,
    AfterValidator(_utc_time),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": f"^{_OFFSET_TIME.pattern}$",
            "description": "When it happened, with its offset; at most an hour ahead of the server's clock",
        }
    ),
]
CarrierStatus = Annotated[
    CourierStatus,
    BeforeValidator(_carrier_word),
    Field(description="One of the nine; a carrier's own word for one (InTransit, AttemptFail, ...) is taken too"),
]


class TrackingEventBody(Body):
    event_id: Code = Field(description="The carrier's id of the event: an event already held changes nothing")
    status: CarrierStatus
    occurred_at: EventTime
    location: Text | None = None
    description: Note | None = None


class TrackingEventsBody(Body):
    events: Annotated[list[TrackingEventBody], Field(min_length=1, max_length=tracking.MAX_EVENTS_PER_CALL)]

    def records(self, received_at: str) -> list[tracking.EventRecord]:
        """The events as the timeline stores them; an id sent twice in the batch counts once (the first)."""
        found: dict[str, tracking.EventRecord] = {}
        for event in self.events:
            found.setdefault(
                event.event_id,
                {
                    "event_id": event.event_id,
                    "status": event.status.value,
                    "occurred_at": event.occurred_at,
                    "location": event.location,
                    "description": event.description,
                    "received_at": received_at,
                },
            )
        return list(found.values())


# -- responses ---------------------------------------------------------------------------


class CancellationRequest(Model):
    status: RequestStatus
    reason_code: SellerReason | None = None
    note: str | None = None
    requested_at: str
    # Requests made before the time limit existed have neither.
    due_at: str | None = Field(None, description="When the warehouse should have decided by")
    escalated_at: str | None = Field(None, description="When the request was escalated as overdue; null until then")
    decision_reason_code: WarehouseReason | None = None
    decision_note: str | None = None
    decided_at: str | None = None


class Cancellation(Model):
    option: CancellationOption = Field(description="What the portal's Cancel Order button does now")
    unavailable_reason: Refusal | None = Field(description="Why the button is greyed out (option NONE)")
    request: CancellationRequest | None


class Editing(Model):
    option: EditingOption = Field(description="What the portal's Edit button does now")
    unavailable_reason: Refusal | None = Field(description="Why the button is greyed out (option NONE)")


class Splitting(Model):
    option: SplittingOption = Field(description="What the portal's Split order button does now (docs/api.md §11)")
    unavailable_reason: Refusal | None = Field(description="Why the button is greyed out (option NONE)")


class BackorderLine(Model):
    line: int = Field(description="The line's 1-based position in items")
    sku: str
    quantity: int = Field(description="How many of the line wait for stock")


class Backorder(Model):
    items: list[BackorderLine]
    since: str = Field(description="When the warehouse marked it")
    expected_at: str | None = Field(description="The day stock is expected (YYYY-MM-DD), if known")


class HistoryEntry(Model):
    at: str
    event: Event
    from_status: OrderStatus | None
    to_status: OrderStatus
    by: str = Field(description='"seller:<id>", "warehouse" or "system"')
    # Only an ORDER_EDITED entry has it; the others leave it out rather than say null.
    changed: list[str] | SkipJsonSchema[None] = Field(
        None, description="ORDER_EDITED: the fields the edit replaced", exclude_if=lambda changed: changed is None
    )
    split_from: str | SkipJsonSchema[None] = Field(
        None,
        description="ORDER_CREATED of a split-off order: the order it was split off",
        exclude_if=lambda v: v is None,
    )
    split_into: str | SkipJsonSchema[None] = Field(
        None, description="ORDER_SPLIT: the order split off this one", exclude_if=lambda v: v is None
    )


class CourierStatusView(Model):
    """Where the parcel is: the courier's newest event (docs/api.md §12)."""

    status: CourierStatus
    occurred_at: str
    location: str | None
    description: str | None


class OrderSummary(Model):
    """An order as a list shows it (GET /orders, the warehouse's queue): all of it but its history."""

    order_id: str
    seller_id: str
    reference: str
    status: OrderStatus
    items: list[LineItem]
    recipient: Recipient
    courier_service: str
    tracking_number: str | None
    created_at: str
    updated_at: str
    version: int
    cancellation: Cancellation
    editing: Editing
    courier_status: CourierStatusView | None = Field(
        description="The courier's status once despatched (docs/api.md §12); null before the first event"
    )
    tracking_url: str | None = Field(description="The carrier's page for the parcel; null without a tracking number")
    splitting: Splitting
    backorder: Backorder | None = Field(description="While ON_BACKORDER: the lines short of stock")
    split_from: str | None = Field(description="The order this one was split off (docs/api.md §11)")
    split_into: list[str] = Field(description="The orders split off this one, oldest first")


class Order(OrderSummary):
    """An order, with its history: one entry per change, oldest first."""

    history: list[HistoryEntry]


class SplitOrders(Model):
    """POST /orders/{order_id}/split: the two orders (docs/api.md §11)."""

    in_stock: Order = Field(description="The new order: what ships now, PENDING")
    backorder: Order = Field(description="The order split: what waits for stock, still ON_BACKORDER")


class OrderPage(Model):
    orders: list[OrderSummary] = Field(description="The orders as GET /orders/{order_id} shows them, without history")
    next_token: str | None = Field(description="Pass as ?next_token= for the next page; null on the last")


class RequestPage(Model):
    requests: list[OrderSummary] = Field(
        description="Orders whose cancellation request is pending, most urgent first (without their history)"
    )
    next_token: str | None = Field(description="Pass as ?next_token= for the next page; null on the last")


class TrackingEventView(Model):
    event_id: str
    status: CourierStatus
    occurred_at: str
    location: str | None = None
    description: str | None = None
    received_at: str | None = Field(None, description="When the warehouse system passed it on")


class Tracking(Model):
    """GET /orders/{order_id}/tracking: the parcel's journey, oldest event first."""

    order_id: str
    courier_service: str
    tracking_number: str | None
    tracking_url: str | None
    courier_status: CourierStatusView | None = Field(description="The newest event; null before the first")
    events: list[TrackingEventView] = Field(description="Oldest first; at most the newest 100")
    dropped_events: int = Field(description="How many older events went beyond the 100 kept")


class CourierServiceView(Model):
    code: str
    name: str
    carrier: str
    tracking_url_template: str = Field(description="The carrier's page, {tracking_number} standing for the number")


class CourierServices(Model):
    courier_services: list[CourierServiceView]


class CourierStatusMeaning(Model):
    status: CourierStatus
    title: str
    meaning: str = Field(description="What it means, in plain words")
    final: bool = Field(description="The journey has ended: no further status is expected")


class CourierStatuses(Model):
    courier_statuses: list[CourierStatusMeaning]


def to_tracking(order: OrderItem, timeline: item.TrackingItem) -> Tracking:
    """The tracking page of an order: the courier status is the timeline's newest event."""
    events = timeline["events"]
    return Tracking.model_validate(
        {
            "order_id": order[item.KEY],
            "courier_service": order["courier_service"],
            "tracking_number": order["tracking_number"],
            "tracking_url": couriers.tracking_url(order["courier_service"], order["tracking_number"]),
            "courier_status": tracking.courier_status(events[-1]) if events else order.get(item.COURIER_STATUS),
            "events": events,
            "dropped_events": timeline["dropped"],
        }
    )


class FieldError(Model):
    field: str
    message: str


class Problem(Model):
    """An RFC 9457 problem document with a machine-readable code."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    order_status: OrderStatus | None = None
    version: int | None = Field(None, description="412: the order's current version")
    split_into: list[str] | None = Field(
        None, description="409 NOTHING_IN_STOCK: the orders already split off it (what a retried split made)"
    )
    errors: list[FieldError] | None = None


class BulkResult(Model):
    """One order's result: what its single command answered (status, and the order or the problem)."""

    order_id: str
    status: int = Field(description="The HTTP status the single command answered (or, in a dry run, would)")
    action: domain.BulkAction
    order: Order | None = Field(None, description="On success: the order as the single command returned it")
    problem: Problem | None = Field(None, description="On failure: the single command's problem document")


class BulkCancellationSummary(Model):
    cancelled: int
    requested: int
    unchanged: int
    refused: int
    not_found: int
    not_done: int = Field(description="Orders whose command did not complete in time: send them again")


class BulkCancellationResults(Model):
    results: list[BulkResult] = Field(description="One per order id, in the order they were sent")
    summary: BulkCancellationSummary
    dry_run: bool


class BulkDecisionSummary(Model):
    approved: int
    rejected: int
    unchanged: int
    refused: int
    not_found: int
    not_done: int = Field(description="Orders whose decision did not complete in time: send them again")


class BulkDecisionResults(Model):
    results: list[BulkResult] = Field(description="One per decision, in the order they were sent")
    summary: BulkDecisionSummary


def to_order(stored: OrderItem, state: State | None = None) -> Order:
    """The order as callers see it: the stored fields plus what is derived from them.

    `state` is the item's state where the caller already knows it (the store does after a command).
    """
    shown = _shown(stored, state)
    shown["history"] = item.history_with_statuses(stored[item.HISTORY])
    return Order.model_validate(shown)


def to_summary(listed: ListedOrder) -> OrderSummary:
    """An order as a list shows it, from what a listing index or the queue holds."""
    return OrderSummary.model_validate(_shown(listed, None))


def _shown(stored: ListedOrder, state: State | None) -> dict[str, object]:
    """The order's fields as shown, and its buttons: what the rules and its growth allow now."""
    state = state or item.state_of(stored)
    growth = item.growth_of(stored)
    option, unavailable_reason = cancellation_option(state, growth)
    editing, not_editable = editing_option(state, growth)
    backorder = item.backorder_of(stored)
    in_stock = domain.has_stock(stored["items"], backorder["items"] if backorder else None)
    splitting, not_splittable = splitting_option(state, growth, in_stock)
    fields: Mapping[str, object] = stored
    return {
        **{name: fields.get(name) for name in item.ORDER_FIELDS},
        "cancellation": {
            "option": option,
            "unavailable_reason": unavailable_reason,
            "request": stored.get(item.REQUEST),
        },
        "editing": {"option": editing, "unavailable_reason": not_editable},
        "tracking_url": couriers.tracking_url(stored["courier_service"], stored["tracking_number"]),
        "splitting": {"option": splitting, "unavailable_reason": not_splittable},
        "backorder": backorder,
        "split_from": stored.get(item.SPLIT_FROM),
        "split_into": stored.get(item.SPLIT_INTO, []),
    }
