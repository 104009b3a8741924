"""POST /warehouse/orders/{order_id}/cancellation-decision: the warehouse approves or rejects a request."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from orders.api import OrderId, app, command_response, documented, handler, order_store
from orders.domain import WAREHOUSE, Details
from orders.models import CancellationDecisionBody, Order

__all__ = ["handler"]


@app.post(
    "/warehouse/orders/<order_id>/cancellation-decision",
    summary="Approve or reject a cancellation request",
    responses=documented(HTTPStatus.OK, "Decided (or already so decided)", HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT),
    tags=["warehouse"],
)
def decide_cancellation(order_id: OrderId, decision: CancellationDecisionBody) -> Response[Order]:
    details = Details(reason_code=decision.reason_code, note=decision.note)
    return command_response(decision.action, order_store().apply(order_id, decision.action, WAREHOUSE, details))
