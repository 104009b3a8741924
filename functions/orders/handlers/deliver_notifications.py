"""The delivery function: the topic's delivery queue in, each event to its seller's feed and webhooks.

One message is one event. A message is done when every channel owed the event has answered
2xx (on this try or an earlier one). Otherwise it is reported failed (partial batch response)
after its visibility is set to the next delay of DELIVERY_RETRY_DELAYS_SECONDS, so that retries
come later and later; after the last delay it goes to the dead-letter queue, with why, and is
done here. A message that is no event of ours goes there at once.

Powertools' batch utility gathers the batch's messages concurrently (its async processor, each
message on a thread of `_messages`: the delivery's clients are botocore's and urllib3's, which
block) and builds the partial batch response, so that one seller's slow endpoint (5 s at most)
holds up nobody else's for longer.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from orders.notification.delivery import Unreadable, deliver, read_event
from orders.notification.store import NotificationStore
from orders.observability import logger, metrics, tracer
from orders.settings import settings, sqs

__all__ = ["handler"]

# Kept across invocations (a warm function keeps its threads): one thread per message of a batch (the
# template's BatchSize is 10), another pool for their POSTs, so that a message never waits for a
# thread its own POSTs need.
_messages = ThreadPoolExecutor(max_workers=10, thread_name_prefix="message")
_posts = ThreadPoolExecutor(max_workers=16, thread_name_prefix="post")
_store = NotificationStore()


class RetryLater(Exception):
    """A channel owed the event failed: the message comes back after the delay its visibility was set to."""


def handle(record: SQSRecord) -> str:
    """Deliver one message; its event id when done (delivered, or handed to the dead-letter queue).

    RetryLater when it is to come back; any other exception (DynamoDB down) retries it too.
    """
    attempt = int(record.attributes.approximate_receive_count or "1")
    delays = settings().delivery_retry_delays_seconds
    try:
        event = read_event(record.body or "", record.raw_event.get("messageAttributes") or {})
    except Unreadable as unreadable:
        return _dead_letter(record, f"unreadable: {unreadable}", attempt)
    outcome = deliver(event, _store, allow_local=settings().allow_local_webhooks, pool=_posts)
    metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=len(outcome.delivered))
    if outcome.done:
        logger.info(
            "delivered", extra={"event_id": outcome.event_id, "channels": outcome.delivered, "attempt": attempt}
        )
        return outcome.event_id
    metrics.add_metric(name="WebhooksFailed", unit=MetricUnit.Count, value=len(outcome.failed))
    logger.warning(
        "delivery failed", extra={"event_id": outcome.event_id, "failed": outcome.failed, "attempt": attempt}
    )
    if attempt > len(delays):
        return _dead_letter(record, f"channels still failing after {attempt} tries: {outcome.failed}", attempt)
    _wait(record, delays[attempt - 1])
    raise RetryLater(f"{outcome.event_id}: retry {attempt} in {delays[attempt - 1]} s")


def _wait(record: SQSRecord, seconds: int) -> None:
    """Make the message visible again in `seconds` (the queue's own timeout applies if this fails)."""
    try:
        sqs().change_message_visibility(
            QueueUrl=settings().delivery_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=seconds,
        )
    except (BotoCoreError, ClientError, KeyError, ValueError):
        logger.exception("could not delay the retry", extra={"message_id": record.message_id})


def _dead_letter(record: SQSRecord, why: str, attempt: int) -> str:
    """Hand the message to the dead-letter queue: done here. If even that fails, it is retried."""
    try:
        sqs().send_message(
            QueueUrl=settings().delivery_dead_letter_queue_url,
            MessageBody=record.body or "",
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": why[:1000]},
                "attempts": {"DataType": "Number", "StringValue": str(attempt)},
                "source_message_id": {"DataType": "String", "StringValue": str(record.message_id)},
            },
        )
    except (BotoCoreError, ClientError):
        logger.exception("could not reach the dead-letter queue", extra={"message_id": record.message_id})
        raise
    metrics.add_metric(name="DeliveriesDeadLettered", unit=MetricUnit.Count, value=1)
    logger.error("delivery given up", extra={"message_id": record.message_id, "why": why})
    return "dead-lettered"


async def _on_a_thread(record: SQSRecord) -> str:
    try:
        return await asyncio.get_running_loop().run_in_executor(_messages, handle, record)
    except RetryLater:
        raise
    except Exception:  # a DynamoDB outage, a bug: this message is retried, the others go on
        logger.exception("delivery raised", extra={"message_id": record.message_id})
        raise


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The partial batch response: the messages to retry later."""
    # One processor per invocation: it holds the batch's state, and locally several batches run at once.
    # A batch where every message waits for a retry is an answer, not an error: the response lists them all.
    processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = async_process_partial_response(
        event=event, record_handler=_on_a_thread, processor=processor, context=context
    )
    return dict(response)
