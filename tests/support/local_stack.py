"""The local stack as `make run` starts it (its own process, free ports), and its two kinds of callers.

The stack runs in a child process so that its environment and moto's per-process state never
meet the in-process moto of other tests in the same pytest worker. The callers are
infra/local/callers.py's (the demo seeding uses the same), with what tests read besides the API.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.local import callers
from infra.local.callers import session
from tests.support.api import NEW_ORDER

__all__ = [
    "FAST_RETRIES",
    "FAST_SLA_SECONDS",
    "Portal",
    "RunningStack",
    "Warehouse",
    "new_seller",
    "order_body",
    "session",
    "sleep_until",
    "start_stack",
    "wait_for",
]

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(
    r"^Ready in (?P<seconds>[\d.]+) s: portal (?P<portal>http://\S+), API (?P<api>http://\S+), AWS (?P<aws>http://\S+)\.",
    re.M,
)
LOCAL_ORIGIN = "http://localhost:5173"
DELIVERY_QUEUE = "DeliveryQueue"
# The fast-timer stack's template parameters (the `fast_stack` fixture): cancellation requests fall due
# in seconds (long enough for a page to show one waiting first), failed deliveries are retried each second.
FAST_SLA_SECONDS = 6
FAST_RETRIES = 3
FAST_TIMERS = {
    "PARAM_CancellationRequestSlaSeconds": str(FAST_SLA_SECONDS),
    "PARAM_DeliveryRetryDelaysSeconds": ",".join(["1"] * FAST_RETRIES),
}


@dataclass
class RunningStack:
    process: subprocess.Popen
    log: Path
    api_url: str
    aws_url: str
    ready_seconds: float
    portal_url: str = ""

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def aws(self, service: str) -> Any:
        """A boto3 client of the stack's emulated AWS (moto takes any credentials)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.aws_url,
            region_name="eu-west-2",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def table(self, logical_id: str = "OrdersTable") -> str:
        """The physical name of a table of the template, as the stack created it."""
        return f"orders-local-{logical_id}"

    def deliveries_settled(self, timeout: float = 30) -> None:
        """Wait until the delivery queue holds nothing, visible, in flight or delayed (a retry waiting): every event
        delivered, dead-lettered, or waiting for nothing. Whatever a test saw arrive by then is all that will arrive."""
        sqs = self.aws("sqs")
        url = sqs.get_queue_url(QueueName=f"orders-local-{DELIVERY_QUEUE}")["QueueUrl"]
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]

        def pending() -> int:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            return sum(int(attributes[name]) for name in names)

        left = wait_for(pending, lambda count: count == 0, timeout)
        assert left == 0, f"{left} deliveries still pending after {timeout} s"

    def assert_clean(self) -> None:
        """Nothing failed inside the stack: no handler, poller, subscriber or gateway error was logged."""
        assert "Traceback" not in self.output(), self.output()[-5000:]

    def stop(self, timeout: float = 20) -> int:
        """Ctrl-C, as a developer stops `make run`; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_stack(log: Path, *, env: dict[str, str] | None = None, timeout: float = 90) -> RunningStack:
    """`orders-local` on free ports; returns once it prints its ready line."""
    script = Path(sys.executable).with_name("orders-local")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "infra.local.cli"]
    environment = {
        **os.environ,
        "PORT": "0",
        "MOTO_PORT": "0",
        "PORTAL_PORT": "0",
        "PYTHONUNBUFFERED": "1",
        # The local carrier takes turns only when a test asks (POST /_local/carrier), so the demo stays as seeded.
        "LOCAL_CARRIER_SECONDS": "0",
        **(env or {}),
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = READY.search(log.read_text(errors="replace"))
        if ready:
            return RunningStack(process, log, ready["api"], ready["aws"], float(ready["seconds"]), ready["portal"])
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"the local stack was not ready in {timeout} s:\n{log.read_text()}")


def new_seller() -> str:
    """A seller of one test alone: tests share a stack but never an order or a notification."""
    return f"E2E-{uuid.uuid4().hex[:10]}"


def order_body(reference: str | None = None) -> dict[str, Any]:
    return {"reference": reference or f"REF-{uuid.uuid4().hex[:8]}", **NEW_ORDER}


class Portal(callers.Portal):
    """A seller in the portal, with what the tests read besides the API: the local notifications."""

    def create_order(self) -> dict[str, Any]:
        answer = self.request("POST", "/orders", order_body())
        assert answer.status_code == 201, answer.text
        return answer.json()

    def notifications(self) -> list[dict[str, Any]]:
        answer = self.http.get(f"{self.api_url}/_local/notifications", params={"seller_id": self.seller_id}, timeout=10)
        answer.raise_for_status()
        return answer.json()["notifications"]

    def wait_for_notifications(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        """The seller's notifications once there are `count` (the stream and SNS take a moment)."""
        return wait_for(lambda: self.notifications(), lambda found: len(found) >= count, timeout)


Warehouse = callers.Warehouse


def sleep_until(moment: str, margin: float = 0.2) -> None:
    """Wait until an ISO 8601 time of the API's (a request's `due_at`) has passed, by `margin` seconds."""
    when = datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp() + margin
    time.sleep(max(0.0, when - time.time()))


def wait_for(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
