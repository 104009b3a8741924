"""POST /orders: a seller sends an order; the same reference twice gives back the first order."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from orders.api import app, documented, handler, order_response, order_store, seller
from orders.models import NewOrder, Order

__all__ = ["handler"]


@app.post(
    "/orders",
    summary="Send an order",
    responses=documented(
        HTTPStatus.CREATED, "Created", also={HTTPStatus.OK: "The seller's existing order with this reference"}
    ),
    tags=["seller"],
)
def create_order(order: NewOrder) -> Response[Order]:
    item, created = order_store().create(seller().seller_id, order.model_dump(mode="json"))
    return order_response(item, HTTPStatus.CREATED if created else HTTPStatus.OK)
