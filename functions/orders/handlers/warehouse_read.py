"""GET /warehouse/orders/{order_id} and GET /warehouse/cancellation-requests: the warehouse reads (docs/api.md §6)."""

from http import HTTPStatus
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.api import OrderId, app, documented, handler, order_response, order_store
from orders.domain import WAREHOUSE
from orders.models import Order, PageLimit, RequestPage, to_summary

__all__ = ["handler"]

_OVERDUE = {"true": True, "false": False, None: None}


@app.get(
    "/warehouse/cancellation-requests",
    summary="The warehouse's queue: pending cancellation requests, most urgent first",
    responses=documented(HTTPStatus.OK, "A page of orders with a pending request", body=RequestPage),
    tags=["warehouse"],
)
def list_cancellation_requests(
    overdue: Annotated[
        Literal["true", "false"] | None,
        Query(description="true: only requests past their due time; false: only those not yet due"),
    ] = None,
    limit: Annotated[PageLimit, Query(description="Requests per page")] = 25,
    next_token: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
) -> Response[RequestPage]:
    page = order_store().pending_requests(overdue=_OVERDUE[overdue], limit=limit, page_token=next_token)
    body = RequestPage.model_construct(
        requests=[to_summary(order) for order in page.orders], next_token=page.next_token
    )
    return Response(status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=body)


@app.get(
    "/warehouse/orders/<order_id>",
    summary="Read any seller's order",
    responses=documented(HTTPStatus.OK, "The order", HTTPStatus.NOT_FOUND),
    tags=["warehouse"],
)
def get_any_order(order_id: OrderId) -> Response[Order]:
    return order_response(order_store().get(order_id, WAREHOUSE))
