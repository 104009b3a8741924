"""GET /orders and GET /orders/{order_id}: a seller reads their own orders."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.api import OrderId, app, documented, handler, order_response, order_store, seller
from orders.domain import OrderStatus
from orders.models import Order, OrderPage, PageLimit, to_summary

__all__ = ["handler"]


@app.get(
    "/orders",
    summary="List the seller's orders, newest first",
    responses=documented(HTTPStatus.OK, "A page of orders", body=OrderPage),
    tags=["seller"],
)
def list_orders(
    status: Annotated[OrderStatus | None, Query(description="Only orders in this status")] = None,
    limit: Annotated[PageLimit, Query(description="Orders per page")] = 25,
    next_token: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
) -> Response[OrderPage]:
    found, token = order_store().list_for_seller(seller().seller_id, status=status, limit=limit, page_token=next_token)
    page = OrderPage.model_construct(orders=[to_summary(order) for order in found], next_token=token)
    return Response(status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=page)


@app.get(
    "/orders/<order_id>",
    summary="Read one order",
    responses=documented(HTTPStatus.OK, "The order", HTTPStatus.NOT_FOUND),
    tags=["seller"],
)
def get_order(order_id: OrderId) -> Response[Order]:
    return order_response(order_store().get(order_id, seller()))
