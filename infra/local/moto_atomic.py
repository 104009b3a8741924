"""Make moto's DynamoDB requests atomic, as DynamoDB's single-item writes are.

DynamoDB evaluates a write's condition and applies the write as one atomic step per item.
moto checks the condition, copies the item and writes it without a lock, so two threads can
both pass the same condition (measured: 3 double winners in 100 races). Races are the point
of this service, so the tests and the local stack run each moto DynamoDB request under one
lock: a coarser guarantee than DynamoDB's per-item one, never a weaker one.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.RLock()
_installed = False


def make_dynamodb_writes_atomic() -> None:
    """Idempotent: every DynamoDB request moto serves runs under one re-entrant lock."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    @functools.wraps(original)
    def atomic(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    setattr(DynamoHandler, "call_action", atomic)  # noqa: B010 - a patch of moto's class, on purpose
    _installed = True
