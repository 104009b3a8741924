"""How often the local stack's pollers look for work: often while the stack is busy, seldom once it is quiet.

Lambda's event source mappings poll the stream and the queues for ever; locally each poll is a request
to moto's server, and five pollers looking five times a second kept an idle `make run` at 14 % of a core
(measured), and every stack of the test suite with it. So the pollers pace themselves on what happens:
every invocation of a function `stir`s the pace, which wakes every poller (a write's stream record, a
publish's queued message are there to be read), but none looks more often than every `busy` seconds,
as before, however many invocations there are. While the stack has been busy in the last
`quiet_after` seconds they look every `busy` seconds; quiet, every `idle` seconds (what a change made
from outside, with the AWS CLI, or a message whose retry delay ends waits at most).
"""

from __future__ import annotations

import threading
import time


class Pace:
    def __init__(self, *, busy: float = 0.2, idle: float = 1.0, quiet_after: float = 5.0):
        self.busy = busy
        self.idle = idle
        self.quiet_after = quiet_after
        self._changed = threading.Condition()
        self._stirs = 0
        self._last_stir = time.monotonic()

    def stir(self) -> None:
        """Something happened (an invocation ended, the stack is stopping): every poller looks now."""
        with self._changed:
            self._stirs += 1
            self._last_stir = time.monotonic()
            self._changed.notify_all()

    def poller(self) -> Poller:
        """One poller's pace (each keeps the time of its own last look)."""
        return Poller(self)


class Poller:
    def __init__(self, pace: Pace):
        self._pace = pace
        self._looked = float("-inf")  # no look yet: the first may come at once

    def pause(self, stop: threading.Event) -> None:
        """Wait until the next look: a stir, or the interval the stack's activity calls for, or the stop; and
        never less than `busy` seconds after the last look."""
        pace = self._pace
        with pace._changed:
            seen = pace._stirs
            quiet = time.monotonic() - pace._last_stir > pace.quiet_after
            pace._changed.wait_for(lambda: pace._stirs != seen or stop.is_set(), pace.idle if quiet else pace.busy)
        stop.wait(max(0.0, self._looked + pace.busy - time.monotonic()))
        self._looked = time.monotonic()
