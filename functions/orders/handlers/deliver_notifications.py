"""The delivery function: the topic's delivery queue in, each event to its seller's feed and webhooks.

One message is one event. A message is done when every channel owed the event has answered
2xx (on this try or an earlier one). Otherwise its retry waits the next delay of
DELIVERY_RETRY_DELAYS_SECONDS (later and later) as a **delayed copy** of the message on the same queue,
and the message itself is done: a retry waits delayed, never in flight. SQS holds at most 120,000
messages in flight on a queue, and past that no one receives from it; held in flight for the 32 hours
of the schedule, the retries of one large seller whose webhooks are down would fill that for every
seller at 83 orders a second (`make capacity`). SQS delays a message 15 minutes at most, so a copy
carries when it is due (`not_before`) and a copy received before then is sent on again, delayed,
without touching DynamoDB. The copy carries the try it is (`attempt`) and the first message's id
(`holder`), which holds the event's lease across copies. If the copy cannot be sent, the message
waits in flight as before (its visibility set to the delay, reported failed). After the last delay it
goes to the dead-letter queue, with why, and is done here. A message that is no event of ours goes
there at once.

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
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from orders.notification.delivery import Unreadable, deliver, read_event
from orders.notification.store import MAX_CHANNELS, Lease, NotificationStore
from orders.observability import logger, metrics, tracer
from orders.settings import settings, sqs

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

__all__ = ["handler"]

_store = NotificationStore()


class RetryLater(Exception):
    """A channel owed the event failed and no delayed copy could be sent: the message comes back after the
    delay its visibility was set to."""


SQS_LONGEST_DELAY = 900  # seconds: SendMessage's DelaySeconds at most
ATTEMPT, NOT_BEFORE, HOLDER = "attempt", "not_before", "holder"  # what a delayed copy carries


def _attribute(record: SQSRecord, name: str) -> str | None:
    value = ((record.raw_event.get("messageAttributes") or {}).get(name) or {}).get("stringValue")
    return value if isinstance(value, str) else None


def _number(record: SQSRecord, name: str) -> int | None:
    value = _attribute(record, name)
    return int(value) if value is not None and value.isascii() and value.isdigit() and len(value) < 16 else None


def handle(record: SQSRecord, posts: ThreadPoolExecutor, ends_at: int) -> str:
    """Deliver one message, its POSTs on `posts`, holding its event until `ends_at` (Unix milliseconds, when
    the invocation ends); its event id when done (delivered, handed to the dead-letter queue, or left to
    another copy of the event that holds it).

    RetryLater when it is to come back; any other exception (DynamoDB down) retries it too.
    """
    # The try this is: the copy's, plus the times this very message came back without a copy.
    copied = _number(record, ATTEMPT) or 1
    due = _number(record, NOT_BEFORE)
    if due is not None and due > time.time():
        return _send_copy(record, copied, due)  # not yet: on again, delayed, no try made
    attempt = copied + int(record.attributes.approximate_receive_count or "1") - 1
    delays = settings().delivery_retry_delays_seconds
    try:
        event = read_event(record.body or "", record.raw_event.get("messageAttributes") or {})
    except Unreadable as unreadable:
        return _dead_letter(record, f"unreadable: {unreadable}", attempt)
    # Every retry of this event, copies included, holds it as the first message did.
    lease = Lease(_attribute(record, HOLDER) or str(record.message_id), ends_at)
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
    delay = delays[attempt - 1]
    try:
        _send_copy(record, attempt + 1, int(time.time()) + delay)
    except (BotoCoreError, ClientError):
        logger.exception("could not send the delayed copy", extra={"message_id": record.message_id})
        _wait(record, delay)
        raise RetryLater(f"{outcome.event_id}: retry {attempt} in {delay} s, in flight") from None
    return outcome.event_id


def _send_copy(record: SQSRecord, attempt: int, due: int) -> str:
    """Put a copy of the message on its queue, to be received at `due` (Unix seconds) or up to 15 minutes
    before (then it is sent on again): this message is done. Raises when SQS refuses the copy."""
    carried: dict[str, MessageAttributeValueTypeDef] = {
        name: {"DataType": value["dataType"], "StringValue": value["stringValue"]}
        for name, value in (record.raw_event.get("messageAttributes") or {}).items()
        if name not in (ATTEMPT, NOT_BEFORE, HOLDER) and isinstance(value, dict) and "stringValue" in value
    }
    carried[ATTEMPT] = {"DataType": "Number", "StringValue": str(attempt)}
    carried[NOT_BEFORE] = {"DataType": "Number", "StringValue": str(due)}
    carried[HOLDER] = {"DataType": "String", "StringValue": _attribute(record, HOLDER) or str(record.message_id)}
    sqs().send_message(
        QueueUrl=settings().delivery_queue_url,
        MessageBody=record.body or "",
        MessageAttributes=carried,
        DelaySeconds=max(0, min(SQS_LONGEST_DELAY, due - int(time.time()))),
    )
    return f"waiting until {due}"


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
