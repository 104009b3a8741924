"""GET /orders/{order_id}/tracking: a seller follows their parcel (docs/api.md §12)."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types

from orders.api import OrderId, app, documented, handler, seller, tracking_store
from orders.models import Tracking, to_tracking

__all__ = ["handler"]


@app.get(
    "/orders/<order_id>/tracking",
    summary="The parcel's tracking: its courier status and its events, oldest first",
    responses=documented(HTTPStatus.OK, "The tracking", HTTPStatus.NOT_FOUND, body=Tracking),
    tags=["seller"],
)
def get_tracking(order_id: OrderId) -> Response[Tracking]:
    order, timeline = tracking_store().read(order_id, seller())
    return Response(
        status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=to_tracking(order, timeline)
    )
