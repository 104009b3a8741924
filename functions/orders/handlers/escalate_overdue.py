"""The escalation sweep (docs/api.md §6), run on a schedule: every pending request past its due time,
not yet escalated, is escalated with one conditional write, at most once however sweeps overlap.

It pages through the sparse `escalation-due` index (one Query a page) and stops with a quarter of
its time (at most 3 s) left: whatever it did not reach, the next sweep finds still there.
"""

from __future__ import annotations

from typing import Any, TypedDict

from aws_lambda_powertools.metrics import MetricUnit

from orders.dynamodb import now
from orders.observability import logger, metrics, tracer
from orders.store import OrderStore

__all__ = ["handler"]

PAGE_SIZE = 100
_MARGIN_MILLIS = 3000


class Sweep(TypedDict):
    """What one sweep did: the handler's result, as the local schedule route shows it too."""

    swept_at: str
    overdue: int
    escalated: int
    already_handled: int  # decided, or escalated by an overlapping sweep, since the Query
    complete: bool


def sweep(store: OrderStore, context: Any) -> Sweep:
    """Escalate what is due, page by page, until done or out of time."""
    at = now()
    margin: float = min(_MARGIN_MILLIS, context.get_remaining_time_in_millis() / 4)
    result = Sweep(swept_at=at, overdue=store.count_overdue(at), escalated=0, already_handled=0, complete=False)

    def out_of_time() -> bool:
        return bool(context.get_remaining_time_in_millis() <= margin)

    start_key: dict[str, Any] | None = None
    while not out_of_time():
        page = store.due_for_escalation(at, limit=PAGE_SIZE, start_key=start_key)
        for order_id in page.order_ids:
            if out_of_time():
                return result
            if store.escalate(order_id):
                result["escalated"] += 1
                logger.info("cancellation request escalated", extra={"order_id": order_id})
            else:
                result["already_handled"] += 1
        if page.last_key is None:
            result["complete"] = True
            return result
        start_key = page.last_key
    return result


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> Sweep:
    """One sweep; the metric OverdueCancellationRequests (pending past due) is what the alarm watches."""
    result = sweep(OrderStore(), context)
    metrics.add_metric(name="OverdueCancellationRequests", unit=MetricUnit.Count, value=result["overdue"])
    metrics.add_metric(name="CancellationRequestsEscalated", unit=MetricUnit.Count, value=result["escalated"])
    if not result["complete"]:
        logger.warning("sweep stopped before its timeout; the next one goes on", extra=result)
    return result
