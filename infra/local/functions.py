"""The Lambda runtime, in-process: each function's handler imported from its Handler string.

Invocations run one at a time. In Lambda every concurrent invocation has its own execution
environment; here the functions share one interpreter, and module state such as the
Powertools resolver's current event is per process, so a lock stands in for the isolation.

`close` is the first step of the stack's stop: from then on every invocation, and every one
still waiting for its turn, is refused at once (`Stopping`), so that a flood of requests queued
behind the lock cannot keep the process busy for minutes after Ctrl-C; `wait_idle` then waits
for the invocations already running, which still need moto.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infra import template
from infra.local.lambda_context import LambdaContext
from infra.local.pace import Pace
from infra.local.resources import LocalResources

log = logging.getLogger("orders-local")


class InvocationFailed(Exception):
    """The handler raised: Lambda reports an error, and API Gateway answers 502."""


class Stopping(InvocationFailed):
    """The stack is stopping: the function is not invoked (nothing ran, nothing is logged)."""


@dataclass(frozen=True)
class Function:
    name: str  # logical id
    physical_name: str
    arn: str
    memory: int
    timeout: int
    handler: Callable[[Any, Any], Any]


class Functions:
    def __init__(self, resources: LocalResources, pace: Pace | None = None):
        self._pace = pace  # stirred as each invocation ends: what it wrote or sent is there to be read
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._running = 0  # invocations in progress, exclusive or not
        self._idle = threading.Condition()
        self._functions: dict[str, Function] = {}
        self.log_invocations = True  # one line per event-source invocation
        for name, handler in template.handlers().items():
            # Lambda runs the handler with the function's CodeUri as its working directory, on sys.path.
            code = str(template.ROOT / str(template.function_setting(name, "CodeUri") or "."))
            if code not in sys.path:
                sys.path.insert(0, code)
            module, attribute = handler.rsplit(".", 1)
            self._functions[name] = Function(
                name=name,
                physical_name=resources.function_name(name),
                arn=resources.resolver.attributes[(name, "Arn")],
                memory=int(template.function_setting(name, "MemorySize") or 128),
                timeout=int(template.function_setting(name, "Timeout") or 3),
                handler=getattr(importlib.import_module(module), attribute),
            )

    def __contains__(self, name: str) -> bool:
        return name in self._functions

    def serialized(self, name: str, *, exclusive: bool = True, kind: str = "STREAM") -> Callable[[Any, Any], Any]:
        """The handler as an event source calls it (with its own context), one invocation at a time.

        `exclusive=False` lets it run beside the others: for a function that keeps no per-invocation
        state in shared modules (the delivery function uses no resolver), so that a webhook taking
        its full timeout holds up no API request, as in Lambda, where it runs on its own.
        """
        function = self._functions[name]
        handler = function.handler

        def invoke(event: Any, context: Any) -> Any:
            with self._turn(exclusive):
                started, outcome = time.perf_counter(), "failed"
                context = context or LambdaContext(
                    function_name=function.physical_name,
                    invoked_function_arn=function.arn,
                    memory_limit_in_mb=function.memory,
                    timeout_seconds=function.timeout,
                )
                try:
                    result = handler(event, context)
                    failures = len(result.get("batchItemFailures") or []) if isinstance(result, dict) else 0
                    outcome = f"{failures} reported failed" if failures else "ok"
                    return result
                finally:
                    if self.log_invocations:
                        records = len(event.get("Records", [])) if isinstance(event, dict) else 0
                        elapsed = (time.perf_counter() - started) * 1000
                        log.info("%s %s %d records %s %.1f ms", kind, name, records, outcome, elapsed)

        return invoke

    def invoke(self, name: str, event: Any) -> Any:
        """Run the function's handler on `event`, as one Lambda invocation."""
        function = self._functions[name]
        with self._turn(exclusive=True):
            context = LambdaContext(
                function_name=function.physical_name,
                invoked_function_arn=function.arn,
                memory_limit_in_mb=function.memory,
                timeout_seconds=function.timeout,
            )
            try:
                result = function.handler(event, context)
            except Exception as error:
                # What CloudWatch would show for the invocation; the caller never sees it.
                log.exception("%s failed (request %s)", name, context.aws_request_id)
                raise InvocationFailed(name) from error
            finally:
                elapsed = time.monotonic() - context.started
                if elapsed > function.timeout:
                    log.warning(
                        "%s took %.1f s: Lambda would have timed it out at %d s", name, elapsed, function.timeout
                    )
        return result

    # -- stopping ----------------------------------------------------------------------------

    def close(self) -> None:
        """Refuse every invocation from now on, those waiting for their turn included."""
        self._closed.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait for the invocations in progress to end; False if some still run after `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)

    @contextmanager
    def _turn(self, exclusive: bool) -> Iterator[None]:
        """One invocation's turn: the lock when exclusive, and counted as running; Stopping once closed."""
        if exclusive:
            while not self._lock.acquire(timeout=0.1):  # a short wait, to see a close while queued
                if self._closed.is_set():
                    raise Stopping()
        try:
            if self._closed.is_set():
                raise Stopping()
            with self._idle:
                self._running += 1
            try:
                yield
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()
                if self._pace is not None:
                    self._pace.stir()
        finally:
            if exclusive:
                self._lock.release()
