"""Threads that really interleave: the races of the integration tests."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def eager_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter can, so that two requests really interleave."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_together(*targets: Callable[[], object]) -> None:
    """Start every target on a thread of its own, eagerly switching, and wait for them all."""
    with eager_switching():
        threads = [threading.Thread(target=target) for target in targets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
