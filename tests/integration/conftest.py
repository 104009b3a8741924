"""Fixtures of the integration tests: the store on moto, and the DynamoDB requests its client makes."""

from __future__ import annotations

import collections

import pytest


@pytest.fixture
def dynamodb_calls(aws):
    """Every DynamoDB API call the store's client makes, by operation name."""
    from orders.settings import dynamodb

    calls: collections.Counter[str] = collections.Counter()
    dynamodb().meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    return calls
