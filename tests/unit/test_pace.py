"""infra/local/pace.py: the local pollers look soon after a stir, never more often than `busy`, seldom when quiet."""

from __future__ import annotations

import threading
import time

from infra.local.pace import Pace


def paused(pace: Pace, stop: threading.Event, stir_after: float | None = None) -> float:
    """Seconds one pause took, with a stir `stir_after` seconds into it (if any)."""
    poller = pace.poller()
    if stir_after is not None:
        threading.Timer(stir_after, pace.stir).start()
    started = time.monotonic()
    poller.pause(stop)
    return time.monotonic() - started


def test_a_busy_stack_is_looked_at_every_busy_interval():
    pace = Pace(busy=0.1, idle=5, quiet_after=10)
    pace.stir()
    assert 0.08 < paused(pace, threading.Event()) < 1.5


def test_a_quiet_stack_is_looked_at_every_idle_interval():
    pace = Pace(busy=0.05, idle=0.6, quiet_after=0)
    time.sleep(0.01)
    assert 0.55 < paused(pace, threading.Event()) < 3


def test_a_stir_wakes_a_quiet_stacks_pollers_at_once():
    pace = Pace(busy=0.05, idle=30, quiet_after=0)
    time.sleep(0.01)
    assert paused(pace, threading.Event(), stir_after=0.1) < 5


def test_however_many_stirs_a_poller_looks_no_more_often_than_every_busy_interval():
    pace = Pace(busy=0.3, idle=5, quiet_after=10)
    poller, stop = pace.poller(), threading.Event()
    looks = []
    stirring = threading.Event()

    def stir_for_ever() -> None:
        while not stirring.is_set():
            pace.stir()
            time.sleep(0.005)

    threading.Thread(target=stir_for_ever, daemon=True).start()
    started = time.monotonic()
    while time.monotonic() - started < 1.2:
        poller.pause(stop)
        looks.append(time.monotonic())
    stirring.set()
    gaps = [later - earlier for earlier, later in zip(looks, looks[1:], strict=False)]
    assert gaps and min(gaps) >= 0.29


def test_the_stop_ends_a_pause_at_once():
    pace = Pace(busy=0.05, idle=30, quiet_after=0)
    stop = threading.Event()
    threading.Timer(0.1, lambda: (stop.set(), pace.stir())).start()
    time.sleep(0.01)
    assert paused(pace, stop) < 5
