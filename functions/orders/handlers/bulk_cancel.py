"""POST /bulk-cancellations: a seller cancels up to 100 orders at once, each as its single command would."""

import json
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from orders import bulk, item
from orders.api import app, documented, handler, order_store, seller
from orders.domain import Action, BulkAction, Details, bulk_cancel_command
from orders.item import OrderItem
from orders.models import BulkCancellationBody, BulkCancellationResults
from orders.observability import metrics

__all__ = ["handler"]

SUMMARY = {
    BulkAction.CANCELLED: "cancelled",
    BulkAction.CANCELLATION_REQUESTED: "requested",
    BulkAction.UNCHANGED: "unchanged",
    BulkAction.REFUSED: "refused",
    BulkAction.NOT_FOUND: "not_found",
    BulkAction.NOT_DONE: "not_done",
}


@app.post(
    "/bulk-cancellations",
    summary="Cancel many orders at once (a dry run says what would happen)",
    description=(
        "Each result is what POST /orders/{order_id}/cancel (or, for an order in the warehouse with "
        "if_in_warehouse REQUEST, POST /orders/{order_id}/cancellation-request) answered for that order: "
        "its status, and the order or the problem. Another seller's order is NOT_FOUND."
    ),
    responses=documented(
        HTTPStatus.OK, "One result per order id, in order, and their summary", body=BulkCancellationResults
    ),
    tags=["seller"],
)
def bulk_cancel(request: BulkCancellationBody) -> Response[str]:
    caller = seller()
    request_in_warehouse = request.if_in_warehouse == "REQUEST"
    requested = Details(reason_code=request.reason_code, note=request.note)

    def choose(current: OrderItem) -> bulk.Command:
        action = bulk_cancel_command(item.state_of(current), request_in_warehouse)
        details = requested if action == Action.REQUEST_CANCELLATION else Details()
        return bulk.Command(current[item.KEY], action, details)

    deadline = bulk.deadline_of(app.lambda_context)
    results = bulk.run(order_store(), caller, request.order_ids, choose, deadline=deadline, dry_run=request.dry_run)
    counts = bulk.summary(results, SUMMARY)
    if not request.dry_run:
        for name, count in counts.items():
            if count:
                metrics.add_metric(name=f"BULK_CANCEL_{name.upper()}", unit=MetricUnit.Count, value=count)
    body = {"results": [result.body() for result in results], "summary": counts, "dry_run": request.dry_run}
    return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, json.dumps(body, separators=(",", ":")))
