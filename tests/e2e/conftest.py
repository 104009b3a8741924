"""End to end: the local stack in its own process (tests/conftest.py's `stack`, one per pytest worker, shared
with the hardening tests), called over HTTP.

Tests share the stack but not their data: each acts as a seller of its own (new_seller), and only
test_make_run's banner story touches the demo orders (S-1's).
"""

from __future__ import annotations

import pytest

from infra.local.webhook_receiver import Receiver
from tests.support.local_stack import Portal, RunningStack, Warehouse, new_seller


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Each phase's report on the item (`rep_call`), so that a fixture can tell its test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def portal(stack: RunningStack) -> Portal:
    """A seller of this test alone."""
    return Portal(stack.api_url, new_seller())


@pytest.fixture
def warehouse(stack: RunningStack) -> Warehouse:
    return Warehouse(stack.api_url)


@pytest.fixture
def receiver():
    """A webhook receiver on loopback, for a channel of the test's seller."""
    with Receiver() as running:
        yield running
