"""The template's Schedule events, run locally as EventBridge would: each function at its rate.

`run_now` is what `POST /_local/schedules/{FunctionLogicalId}` calls: one invocation at once,
with the scheduled event EventBridge sends, answering the handler's result.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from infra import template
from infra.local.functions import Functions, InvocationFailed

log = logging.getLogger("orders-local")


class Schedules:
    def __init__(self, functions: Functions, *, region: str, account_id: str, stack_name: str):
        self._functions = functions
        self._region = region
        self._account_id = account_id
        self._stack_name = stack_name
        self.schedules = {schedule.function: schedule for schedule in template.schedules()}

    def start(self, stop: threading.Event, spawn: Any) -> None:
        """A thread per schedule: the first run one rate after start, as a new EventBridge rule's is."""
        for schedule in self.schedules.values():
            spawn(lambda schedule=schedule: self._run_every(schedule, stop), f"schedule-{schedule.function}")

    def _run_every(self, schedule: template.Schedule, stop: threading.Event) -> None:
        while not stop.wait(schedule.rate_seconds):
            try:
                result = self.run_now(schedule.function)
            except InvocationFailed:
                continue  # logged by Functions.invoke; EventBridge would retry, the next rate comes anyway
            log.info("SCHEDULE %s %s", schedule.function, result)

    def run_now(self, function: str) -> Any:
        """Invoke the function once with its scheduled event; KeyError when it has no Schedule event."""
        schedule = self.schedules[function]
        return self._functions.invoke(function, self._event(schedule))

    def _event(self, schedule: template.Schedule) -> dict[str, Any]:
        rule = f"{self._stack_name}-{schedule.function}-{schedule.event}"
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [f"arn:aws:events:{self._region}:{self._account_id}:rule/{rule}"],
            "detail": {},
        }
