"""What a seller who controls their receiver's name server can do to a delivery (docs/api.md §7).

The POST has a hard 5 s deadline (tests/unit/test_webhook_post.py); the name lookup before it, made
again at every delivery, is the seller's too: their name server can answer slowly or never.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from orders.notification import webhooks
from orders.notification.client import DEADLINE_SECONDS
from orders.notification.delivery import deliver
from orders.notification.store import Lease, NotificationStore
from tests.integration.test_deliveries import EVENT_TYPES, event

HUNG = "hung-dns.example"
PUBLIC = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]


@pytest.fixture
def hung_name_server(monkeypatch):
    """getaddrinfo for HUNG blocks until the test ends (a name server that never answers); others are public."""
    released = threading.Event()

    def getaddrinfo(host, *args, **kwargs):
        if host == HUNG:
            released.wait(60)
        return PUBLIC

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    released.set()


def test_a_channel_whose_name_server_never_answers_fails_its_delivery_at_5_s_and_others_are_delivered(
    aws, hung_name_server
):
    # Given a seller with a channel whose host never resolves, and one whose host does
    store = NotificationStore()
    store.create_channel("S-1", f"https://{HUNG}/hook", EVENT_TYPES, None)
    store.create_channel("S-1", "https://prompt.example/hook", EVENT_TYPES, None)
    posted: list[str] = []

    def post(target, body, headers):
        posted.append(target.host)
        return webhooks.Answer(200)

    # When an event is delivered
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        outcome = deliver(event("S-1"), store, allow_local=False, pool=pool, lease=Lease("m-1", 2**53), post=post)
    elapsed = time.monotonic() - started

    # Then the hung lookup fails that channel (retried later) within the deadline; before, it held it 60 s
    assert elapsed < DEADLINE_SECONDS + 1, elapsed
    assert posted == ["prompt.example"]
    [why] = outcome.failed.values()
    assert f"did not resolve within {DEADLINE_SECONDS:g} s" in why
    assert len(outcome.delivered) == 1


def test_registering_a_url_whose_name_server_never_answers_is_refused_within_5_s(hung_name_server):
    started = time.monotonic()
    with pytest.raises(webhooks.UnsafeUrl, match="did not resolve within"):
        webhooks.check(f"https://{HUNG}/hook")
    assert time.monotonic() - started < DEADLINE_SECONDS + 1
