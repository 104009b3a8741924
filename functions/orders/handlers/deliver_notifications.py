"""The delivery function: the topic's delivery queue in, each event to its seller's feed and webhooks.

One message is one event. A message is done when every channel owed the event has answered
2xx (on this try or an earlier one). Otherwise it is reported failed (partial batch response)
after its visibility is set to the next delay of DELIVERY_RETRY_DELAYS_SECONDS, so that retries
come later and later; after the last delay it goes to the dead-letter queue, with why, and is
done here. A message that is no event of ours goes there at once. The batch's deliveries run in
parallel, so that one seller's slow endpoint (5 s at most) holds up nobody else's for longer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from orders.channels import NotificationStore
from orders.delivery import Unreadable, deliver, read_event
from orders.observability import logger, metrics, tracer
from orders.settings import settings, sqs

__all__ = ["handler"]

# Kept across invocations (a warm function keeps its threads): one pool for the batch's messages,
# another for their POSTs, so that a message never waits for a thread its own POSTs need.
_messages = ThreadPoolExecutor(max_workers=10)
_posts = ThreadPoolExecutor(max_workers=16)
_store = NotificationStore()


def handle(record: dict[str, Any]) -> bool:
    """Deliver one message; True when it is done (delivered, or handed to the dead-letter queue)."""
    attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    delays = settings().delivery_retry_delays_seconds
    try:
        event = read_event(record.get("body") or "", record.get("messageAttributes") or {})
    except Unreadable as unreadable:
        return _dead_letter(record, f"unreadable: {unreadable}", attempt)
    outcome = deliver(event, _store, allow_local=settings().allow_local_webhooks, pool=_posts)
    metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=len(outcome.delivered))
    if outcome.done:
        logger.info(
            "delivered", extra={"event_id": outcome.event_id, "channels": outcome.delivered, "attempt": attempt}
        )
        return True
    metrics.add_metric(name="WebhooksFailed", unit=MetricUnit.Count, value=len(outcome.failed))
    logger.warning(
        "delivery failed", extra={"event_id": outcome.event_id, "failed": outcome.failed, "attempt": attempt}
    )
    if attempt > len(delays):
        return _dead_letter(record, f"channels still failing after {attempt} tries: {outcome.failed}", attempt)
    _wait(record, delays[attempt - 1])
    return False


def _wait(record: dict[str, Any], seconds: int) -> None:
    """Make the message visible again in `seconds` (the queue's own timeout applies if this fails)."""
    try:
        sqs().change_message_visibility(
            QueueUrl=settings().delivery_queue_url,
            ReceiptHandle=record["receiptHandle"],
            VisibilityTimeout=seconds,
        )
    except (BotoCoreError, ClientError, KeyError, ValueError):
        logger.exception("could not delay the retry", extra={"message_id": record.get("messageId")})


def _dead_letter(record: dict[str, Any], why: str, attempt: int) -> bool:
    """Hand the message to the dead-letter queue; False (retry it) if even that fails."""
    try:
        sqs().send_message(
            QueueUrl=settings().delivery_dead_letter_queue_url,
            MessageBody=record.get("body") or "",
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": why[:1000]},
                "attempts": {"DataType": "Number", "StringValue": str(attempt)},
                "source_message_id": {"DataType": "String", "StringValue": str(record.get("messageId"))},
            },
        )
    except (BotoCoreError, ClientError):
        logger.exception("could not reach the dead-letter queue", extra={"message_id": record.get("messageId")})
        return False
    metrics.add_metric(name="DeliveriesDeadLettered", unit=MetricUnit.Count, value=1)
    logger.error("delivery given up", extra={"message_id": record.get("messageId"), "why": why})
    return True


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The partial batch response: the messages to retry later."""
    records = event.get("Records", [])
    results = list(_messages.map(_safely, records)) if len(records) > 1 else [_safely(r) for r in records]
    return {
        "batchItemFailures": [
            {"itemIdentifier": r["messageId"]} for r, done in zip(records, results, strict=True) if not done
        ]
    }


def _safely(record: dict[str, Any]) -> bool:
    try:
        return handle(record)
    except Exception:  # a DynamoDB outage, a bug: this message is retried, the others go on
        logger.exception("delivery raised", extra={"message_id": record.get("messageId")})
        return False
