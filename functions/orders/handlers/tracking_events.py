"""POST /warehouse/orders/{order_id}/tracking-events: the courier's events for a despatched order (docs/api.md §12)."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from orders.api import OrderId, app, documented, handler, order_response, tracking_store
from orders.dynamodb import now
from orders.models import Order, TrackingEventsBody
from orders.observability import metrics

__all__ = ["handler"]


@app.post(
    "/warehouse/orders/<order_id>/tracking-events",
    summary="Pass on the courier's tracking events (1 to 50) for a despatched order",
    description=(
        "Idempotent per event_id and insensitive to the order events arrive in: an event already held changes "
        "nothing, and an event older than the order's courier_status joins the timeline without moving it back. "
        "The order changes (version + 1, event COURIER_STATUS_CHANGED) only when its courier status does."
    ),
    responses=documented(
        HTTPStatus.OK, "The order, with its courier status", HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT
    ),
    tags=["warehouse"],
)
def add_tracking_events(order_id: OrderId, body: TrackingEventsBody) -> Response[Order]:
    tracked = tracking_store().add(order_id, body.records(now()))
    metrics.add_metric(name="TrackingEventsAdded", unit=MetricUnit.Count, value=len(tracked.merged.added))
    if tracked.status_changed:
        metrics.add_metric(name="COURIER_STATUS_CHANGED", unit=MetricUnit.Count, value=1)
    return order_response(tracked.order)
