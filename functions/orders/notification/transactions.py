"""Moved to orders.transactions, where the orders room's split uses it too; this path still imports."""

from orders.transactions import (
    BACKOFF,
    CONDITION_FAILED,
    RETRYABLE_REASONS,
    Backoff,
    Cancelled,
    reasons,
    transact_write,
)

__all__ = ["BACKOFF", "CONDITION_FAILED", "RETRYABLE_REASONS", "Backoff", "Cancelled", "reasons", "transact_write"]
