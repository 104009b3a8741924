"""A DynamoDB transaction, and what its cancellation reasons mean.

DynamoDB refuses a whole `TransactWriteItems` with `TransactionCanceledException` and says why item
by item, in the order of the items (`None` for an item that was not the cause):

- `ConditionalCheckFailed`: that item's condition failed. An answer of the rules (the caller says
  which: the sixth channel, a channel that is not there), given at once.
- `TransactionConflict`: another transaction on one of the items was in flight (two creates of one
  seller's channels at once). Nothing was written, and the same transaction a moment later succeeds:
  retried, a few times with jittered back-off, within a small time budget.
- `ThrottlingError`, `ProvisionedThroughputExceeded`: throttled. Retried likewise (the SDK retries a
  throttled request of its own, but not a transaction cancelled for throttling).
- anything else (`ValidationError`, `ItemCollectionSizeLimitExceeded`): a bug, not retried.

When the retries run out, `StoreUnavailable`: the API answers 503 with Retry-After, nothing changed.
Both rooms use it: the notification room's channels and the orders room's split (orders.dynamodb's `call`
is the one-request version of it). A cancelled item whose write asked for
`ReturnValuesOnConditionCheckFailure` comes back with the item as it stood (`Cancelled.items`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.dynamodb import StoreUnavailable, call, error_code, from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITION_FAILED = "ConditionalCheckFailed"
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


class Cancelled(Exception):
    """DynamoDB cancelled the transaction for a reason retrying cannot change; `reasons` item by item."""

    def __init__(self, reasons: Sequence[str], items: Sequence[Mapping[str, Any] | None] = ()):
        super().__init__(f"transaction cancelled: {', '.join(reasons)}")
        self.reasons = tuple(reasons)
        self.items = tuple(items)  # each item as it stood (plain values), where its write asked for it

    def item(self, index: int) -> Mapping[str, Any] | None:
        """The item at `index` as it stood when its condition failed (None when not asked for, or absent)."""
        return self.items[index] if len(self.items) > index else None

    def condition_failed(self, index: int) -> bool:
        """Whether the item at `index` (from 0, as the transaction listed its items) failed its condition."""
        return len(self.reasons) > index and self.reasons[index] == CONDITION_FAILED


@dataclass(frozen=True)
class Backoff:
    """How a transaction cancelled by a conflict or throttling is retried: `attempts` in all (the first
    included), pausing a random time up to `first`, `2 × first`, ... (at most `longest`) before each retry,
    and never starting one that would end its pause past `budget` seconds after the first try began."""

    attempts: int = 4
    first: float = 0.05
    longest: float = 0.4
    budget: float = 1.0  # the API functions time out at 10 s

    def pause(self, retry: int) -> float:
        return random.uniform(0, min(self.longest, self.first * 2 ** (retry - 1)))  # noqa: S311 - jitter, no secret


BACKOFF = Backoff()


def old_items(error: ClientError) -> list[Mapping[str, Any] | None]:
    """Each cancelled item as it stood, item by item (None where DynamoDB returned none)."""
    found = error.response.get("CancellationReasons") or []
    return [from_item(reason["Item"]) if isinstance(reason.get("Item"), Mapping) else None for reason in found]


def reasons(error: ClientError) -> list[str] | None:
    """The cancellation reasons of a cancelled transaction, item by item; None for any other error."""
    if error_code(error) != "TransactionCanceledException":
        return None
    return [str(reason.get("Code") or "None") for reason in error.response.get("CancellationReasons") or []]


def transact_write(
    client: DynamoDBClient,
    items: list[dict[str, Any]],
    *,
    backoff: Backoff = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """One `TransactWriteItems`, retried while DynamoDB cancels it for a conflict or throttling.

    Cancelled when a condition failed (at once) or for a reason retrying cannot change; StoreUnavailable
    when it was still cancelled for a conflict or throttling after `backoff`'s attempts or budget.
    """
    deadline = time.monotonic() + backoff.budget
    for attempt in range(1, backoff.attempts + 1):
        try:
            call(client.transact_write_items, TransactItems=items)
            return
        except ClientError as error:
            found = reasons(error)
            if found is None:
                raise
            causes = [reason for reason in found if reason != "None"]
            if not causes or not RETRYABLE_REASONS.issuperset(causes):  # a failed condition among them
                raise Cancelled(found, old_items(error)) from error
            pause = backoff.pause(attempt)
            if attempt == backoff.attempts or time.monotonic() + pause > deadline:
                raise StoreUnavailable(f"transaction still cancelled after {attempt} tries: {found}") from error
            sleep(pause)
