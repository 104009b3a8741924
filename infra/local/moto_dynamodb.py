"""moto's DynamoDB, patched twice for the tests and the local stack: atomic like DynamoDB, and quick to answer.

- **Atomic.** DynamoDB evaluates a write's condition and applies the write as one atomic step per
  item. moto checks the condition, copies the item and writes it without a lock, so two threads can
  both pass the same condition (measured: 3 double winners in 100 races). Races are the point of
  this service, so each moto DynamoDB request runs under one lock: a coarser guarantee than
  DynamoDB's per-item one, never a weaker one.
- **Quick to answer.** moto 5.2 turns every response into JSON by walking botocore's output shape
  member by member: 143 ms to serialise a Query of 20 orders (measured with cProfile), some
  ten times what finding them costs, and the largest cost of every listing in the test suite and
  in `make run`. The results that carry items (`DynamoResult`: GetItem, Query, Scan, the writes'
  returned attributes, the batch and transaction reads) are already plain DynamoDB JSON once moto
  has turned them into dicts, so they are written with `json.dumps`, exactly as the shape-walking
  serializer would write them (tests/integration/test_moto_dynamodb.py holds the two to the same bodies).
  A result `json.dumps` cannot write (bytes, say) takes moto's own way, and so does every error.
  The stream's GetRecords (every poll of the notifier's event source mapping) is written the same way,
  its record times as the serializer writes them (seconds since the epoch, to the millisecond).
"""

from __future__ import annotations

import calendar
import functools
import json
import threading
from datetime import datetime
from typing import Any

_lock = threading.RLock()
_installed = False
# moto's own way of writing a result, kept for the test that holds the quick one to it.
moto_execute_result: Any = None


def patch_dynamodb() -> None:
    """Idempotent: every DynamoDB request moto serves runs under one re-entrant lock, and its item results
    are written as JSON directly."""
    global _installed, moto_execute_result
    if _installed:
        return
    from moto.core.responses import ActionResult
    from moto.core.serialize import JSONSerializer
    from moto.dynamodb.responses import DynamoHandler, DynamoResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    original_call = DynamoHandler.call_action

    @functools.wraps(original_call)
    def atomic(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original_call(self, *args, **kwargs)

    original_execute = moto_execute_result = DynamoResult.execute_result

    @functools.wraps(original_execute)
    def quick(self: ActionResult, context: Any) -> Any:
        if not issubclass(context.serializer_class, JSONSerializer):
            return original_execute(self, context)
        try:
            body = json.dumps(self.result, default=_epoch_seconds)
        except (TypeError, ValueError):
            return original_execute(self, context)
        version = context.service_model.metadata.get("jsonVersion", "1.0")
        status = context.operation_model.http.get("responseCode", 200)
        return status, {"Content-Type": f"application/x-amz-json-{version}"}, body

    class QuickResult(ActionResult):
        """A stream's GetRecords result, written as DynamoResult's are."""

    setattr(QuickResult, "execute_result", quick)  # noqa: B010 - the quick writer, as DynamoResult's
    original_records = DynamoDBStreamsHandler.get_records

    @functools.wraps(original_records)
    def records(self: DynamoDBStreamsHandler) -> ActionResult:
        return QuickResult(original_records(self).result)

    setattr(DynamoHandler, "call_action", atomic)  # noqa: B010 - a patch of moto's class, on purpose
    setattr(DynamoResult, "execute_result", quick)  # noqa: B010 - likewise
    setattr(DynamoDBStreamsHandler, "get_records", records)  # noqa: B010 - likewise
    _installed = True


def _epoch_seconds(value: Any) -> int | float:
    """A time as moto's JSON serializer writes one: seconds since the epoch, truncated to the millisecond."""
    if not isinstance(value, datetime):
        raise TypeError(f"no JSON for {type(value).__name__}")
    seconds = calendar.timegm(value.utctimetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
