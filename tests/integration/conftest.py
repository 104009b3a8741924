"""Fixtures of the integration tests: the store on moto, and the DynamoDB requests its client makes."""

from __future__ import annotations

import collections

import pytest

from tests.support.threads import eager_switching


@pytest.fixture
def dynamodb_calls(aws):
    """Every DynamoDB API call the store's client makes, by operation name."""
    from orders.settings import dynamodb

    calls: collections.Counter[str] = collections.Counter()
    dynamodb().meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    return calls


@pytest.fixture
def eager_thread_switching():
    """Switch threads as often as the interpreter can, so that two requests really interleave."""
    with eager_switching():
        yield
