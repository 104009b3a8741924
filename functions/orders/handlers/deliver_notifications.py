"""The delivery function: the topic's delivery queue in, each event to its seller's feed and webhooks.

One message is one event. A message is done when every channel owed the event has answered
2xx (on this try or an earlier one). Otherwise it is reported failed (partial batch response)
after its visibility is set to the next delay of DELIVERY_RETRY_DELAYS_SECONDS, so that retries
come later and later; after the last delay it goes to the dead-letter queue, with why, and is
done here. A message that is no event of ours goes there at once.

Powertools' batch utility gathers the batch's messages concurrently (its async processor, each
message on a thread of its own: the delivery's clients, botocore's and the webhook POST, block) and
builds the partial batch response. Each POST has a thread of its own too (a batch's messages times a
seller's channels at most), and a hard deadline of 5 s, so that one seller's slow endpoint holds up
no other seller's event in the batch, and the batch itself for 5 s and a few requests at most.

The threads belong to the invocation: Lambda runs an invocation per execution environment, but the
local stack runs several batches of this function at once in one process (as Lambda runs several
batches of an SQS event source at once), and pools shared by them would let one batch's slow POSTs
hold up another's. What the module keeps across invocations is safe to share between threads: the
store (a botocore client), the settings, and Powertools' Logger and Metrics (though there, with
concurrent invocations in one process, a log line may carry a sibling invocation's request id, and
one flush may carry another's counts: the local stack's only, where metrics are off).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from orders.notification.delivery import Unreadable, deliver, read_event
from orders.notification.store import MAX_CHANNELS, Lease, NotificationStore
from orders.observability import logger, metrics, tracer
from orders.settings import settings, sqs

__all__ = ["handler"]

_store = NotificationStore()


class RetryLater(Exception):
    """A channel owed the event failed: the message comes back after the delay its visibility was set to."""


def handle(record: SQSRecord, posts: ThreadPoolExecutor, ends_at: int) -> str:
    """Deliver one message, its POSTs on `posts`, holding its event until `ends_at` (Unix milliseconds, when
    the invocation ends); its event id when done (delivered, handed to the dead-letter queue, or left to
    another copy of the event that holds it).

    RetryLater when it is to come back; any other exception (DynamoDB down) retries it too.
    """
    attempt = int(record.attributes.approximate_receive_count or "1")
    delays = settings().delivery_retry_delays_seconds
    try:
        event = read_event(record.body or "", record.raw_event.get("messageAttributes") or {})
    except Unreadable as unreadable:
        return _dead_letter(record, f"unreadable: {unreadable}", attempt)
    lease = Lease(str(record.message_id), ends_at)  # a retry of this message holds the event again
    outcome = deliver(event, _store, allow_local=settings().allow_local_webhooks, pool=posts, lease=lease)
    metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=len(outcome.delivered))
    if outcome.stood_down_for is not None:
        logger.info("another copy delivers it", extra={"event_id": outcome.event_id, "holder": outcome.stood_down_for})
        return outcome.event_id
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


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The partial batch response: the messages to retry later."""
    records = len(event.get("Records") or []) or 1
    ends_at = int(time.time() * 1000) + (context.get_remaining_time_in_millis() if context else 60_000)
    # A thread per message, and one per POST the batch can make: nobody waits for a thread.
    with (
        ThreadPoolExecutor(max_workers=records, thread_name_prefix="message") as messages,
        ThreadPoolExecutor(max_workers=records * MAX_CHANNELS, thread_name_prefix="post") as posts,
    ):

        async def on_a_thread(record: SQSRecord) -> str:
            try:
                return await asyncio.get_running_loop().run_in_executor(messages, handle, record, posts, ends_at)
            except RetryLater:
                raise
            except Exception:  # a DynamoDB outage, a bug: this message is retried, the others go on
                logger.exception("delivery raised", extra={"message_id": record.message_id})
                raise

        # One processor per invocation: it holds the batch's state. A batch where every message waits for a
        # retry is an answer, not an error: the response lists them all.
        processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response = async_process_partial_response(
            event=event, record_handler=on_a_thread, processor=processor, context=context
        )
    return dict(response)
