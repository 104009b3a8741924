"""POST /orders/{order_id}/cancellation-request: a seller asks the warehouse to cancel an order."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from orders.api import OrderId, app, command_response, documented, handler, order_store, seller
from orders.domain import Action, Details
from orders.models import CancellationRequestBody, Order

__all__ = ["handler"]


@app.post(
    "/orders/<order_id>/cancellation-request",
    summary="Request the cancellation of an order in the warehouse",
    responses=documented(
        HTTPStatus.ACCEPTED, "Requested (or already requested)", HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT
    ),
    tags=["seller"],
)
def request_cancellation(order_id: OrderId, request: CancellationRequestBody | None = None) -> Response[Order]:
    details = Details(reason_code=request.reason_code, note=request.note) if request else Details()
    applied = order_store().apply(order_id, Action.REQUEST_CANCELLATION, seller(), details)
    return command_response(Action.REQUEST_CANCELLATION, applied, HTTPStatus.ACCEPTED)
