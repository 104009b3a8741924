"""POST /warehouse/orders/{order_id}/status: the warehouse moves an order forward."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from orders.api import OrderId, app, command_response, documented, handler, order_store
from orders.domain import WAREHOUSE, Action, Details, OrderStatus
from orders.models import Order, StatusUpdateBody

__all__ = ["handler"]


@app.post(
    "/warehouse/orders/<order_id>/status",
    summary="Report the order's fulfilment status",
    responses=documented(
        HTTPStatus.OK, "Moved, or the backorder marked (or already so)", HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT
    ),
    tags=["warehouse"],
)
def update_status(order_id: OrderId, update: StatusUpdateBody) -> Response[Order]:
    action = Action.move_to(OrderStatus(update.status))
    details = Details(
        tracking_number=update.tracking_number,
        backordered_items=update.backordered(),
        expected_at=update.expected_at,
    )
    return command_response(action, order_store().apply(order_id, action, WAREHOUSE, details))
