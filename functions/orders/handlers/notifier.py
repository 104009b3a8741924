"""The notifier: the orders table's stream in, one SNS message per notifiable change out.

Lambda hands over a batch of one shard's records in stream order and, on a reported
failure, sends everything again from the first failed record. So once a record fails, the
rest of its batch is held back unsent: sending them now would only publish them twice, and
a seller could hear of a decision before the request it decides.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from orders.notification import events
from orders.observability import logger, metrics, tracer
from orders.settings import settings, sns

__all__ = ["handler"]

# No parser model: the images are decoded by orders.dynamodb, as the store decodes its reads.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
# Never pause into the function's timeout: a timed-out invocation is retried just the same.
_TIMEOUT_MARGIN_SECONDS = 1.0


class HeldBack(Exception):
    """An earlier record of this batch failed; this one waits for the retry, to keep the stream's order."""


def notify(record: DynamoDBRecord, lambda_context: Any = None) -> str | None:
    """Publish the event `record` carries; the event id, or None when the change tells nobody."""
    if processor.fail_messages:
        raise HeldBack(record.dynamodb.sequence_number if record.dynamodb else None)
    event = events.event_for_record(record.raw_event)
    if event is None:
        return None
    try:
        message_id = events.publish(sns(), settings().topic_arn, event)
    except events.PublishFailed:
        logger.exception("SNS publish failed", extra={"event_id": event.event_id})
        metrics.add_metric(name="NotificationPublishFailed", unit=MetricUnit.Count, value=1)
        _pause_before_retry(lambda_context)
        raise
    logger.info(
        "notified",
        extra={"event_id": event.event_id, "event_type": event.event_type.value, "message_id": message_id},
    )
    metrics.add_metric(name="NotificationPublished", unit=MetricUnit.Count, value=1)
    return event.event_id


def _pause_before_retry(lambda_context: Any) -> None:
    """Wait before reporting SNS down, so that retries are spaced out (settings.publish_retry_pause_seconds)."""
    pause = settings().publish_retry_pause_seconds
    if lambda_context is not None:
        pause = min(pause, lambda_context.get_remaining_time_in_millis() / 1000 - _TIMEOUT_MARGIN_SECONDS)
    if pause > 0:
        time.sleep(pause)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The partial batch response: every record from the first failed one on, if any failed."""
    metrics.add_metric(name="StreamRecords", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    return dict(process_partial_response(event=event, record_handler=notify, processor=processor, context=context))
