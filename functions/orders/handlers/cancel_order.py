"""POST /orders/{order_id}/cancel: a seller cancels an order not yet sent to the warehouse."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from orders.api import OrderId, app, command_response, documented, handler, order_store, seller
from orders.domain import Action
from orders.models import Order

__all__ = ["handler"]


@app.post(
    "/orders/<order_id>/cancel",
    summary="Cancel an order that is not yet in the warehouse",
    responses=documented(HTTPStatus.OK, "Cancelled (or already cancelled)", HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT),
    tags=["seller"],
)
def cancel_order(order_id: OrderId) -> Response[Order]:
    return command_response(Action.CANCEL, order_store().apply(order_id, Action.CANCEL, seller()))
