"""Make moto's DynamoDB writes atomic, as DynamoDB's are.

DynamoDB evaluates a write's condition and applies the write as one atomic step per item.
moto checks the condition and then writes without a lock, so two threads can both pass the
same condition. Races are the point of this service, so the tests and the local stack put
moto's item operations behind one lock (a coarser guarantee than DynamoDB's per-item one,
never a weaker one).
"""

from __future__ import annotations

import functools
import threading

_OPERATIONS = ("put_item", "update_item", "delete_item", "get_item", "transact_write_items", "execute_statement")
_lock = threading.RLock()
_installed = False


def make_dynamodb_writes_atomic() -> None:
    """Idempotent: wraps moto's DynamoDB backend operations in one re-entrant lock."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def atomic(self, *args, __original=original, **kwargs):
            with _lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)
    _installed = True
