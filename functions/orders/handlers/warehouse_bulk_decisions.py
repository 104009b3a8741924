"""POST /warehouse/cancellation-decisions: the warehouse decides up to 100 requests at once (docs/api.md §13)."""

import json
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from orders import bulk, item
from orders.api import app, documented, handler, order_store
from orders.domain import WAREHOUSE, BulkAction, Details
from orders.item import OrderItem
from orders.models import BulkDecisionBody, BulkDecisionResults
from orders.observability import metrics

__all__ = ["handler"]

SUMMARY = {
    BulkAction.APPROVED: "approved",
    BulkAction.REJECTED: "rejected",
    BulkAction.UNCHANGED: "unchanged",
    BulkAction.REFUSED: "refused",
    BulkAction.NOT_FOUND: "not_found",
    BulkAction.NOT_DONE: "not_done",
}


@app.post(
    "/warehouse/cancellation-decisions",
    summary="Approve or reject many cancellation requests at once",
    description=(
        "Each result is what POST /warehouse/orders/{order_id}/cancellation-decision answered for that "
        "decision: its status, and the order or the problem."
    ),
    responses=documented(
        HTTPStatus.OK, "One result per decision, in order, and their summary", body=BulkDecisionResults
    ),
    tags=["warehouse"],
)
def decide_cancellations(request: BulkDecisionBody) -> Response[str]:
    commands = {
        decision.order_id: bulk.Command(
            decision.order_id, decision.action, Details(reason_code=decision.reason_code, note=decision.note)
        )
        for decision in request.decisions
    }

    def choose(current: OrderItem) -> bulk.Command:
        return commands[current[item.KEY]]

    deadline = bulk.deadline_of(app.lambda_context)
    results = bulk.run(order_store(), WAREHOUSE, list(commands), choose, deadline=deadline)
    counts = bulk.summary(results, SUMMARY)
    for name, count in counts.items():
        if count:
            metrics.add_metric(name=f"BULK_DECISION_{name.upper()}", unit=MetricUnit.Count, value=count)
    body = {"results": [result.body() for result in results], "summary": counts}
    return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, json.dumps(body, separators=(",", ":")))
