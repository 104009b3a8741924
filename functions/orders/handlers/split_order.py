"""POST /orders/{order_id}/split: a seller ships what is in stock of an order on backorder (docs/api.md §11)."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from orders.api import IfMatch, OrderId, app, documented, etag, expected_versions, handler, order_store, seller
from orders.domain import Event
from orders.models import SplitOrders, to_order
from orders.observability import logger, metrics

__all__ = ["handler"]


@app.post(
    "/orders/<order_id>/split",
    summary="Split what is in stock off an order on backorder into a new order",
    responses=documented(
        HTTPStatus.CREATED,
        "Split: the new order (in_stock) and the order that waits (backorder)",
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.PRECONDITION_FAILED,
        body=SplitOrders,
    ),
    tags=["seller"],
)
def split_order(
    order_id: OrderId,
    if_match: IfMatch = None,
) -> Response[SplitOrders]:
    done = order_store().split(order_id, seller(), expected_versions(if_match))
    metrics.add_metric(name=Event.ORDER_SPLIT.value, unit=MetricUnit.Count, value=1)
    logger.append_keys(order_id=order_id, split_into=done.in_stock["order_id"])
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=SplitOrders(in_stock=to_order(done.in_stock), backorder=to_order(done.backorder)),
        headers={"ETag": etag(done.backorder["version"])},
    )
