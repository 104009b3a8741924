"""`make run` as a developer meets it: the banner, its copy-paste story, a busy port, and Ctrl-C or
SIGTERM, even while it is flooded with requests."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
import requests

from infra.local.demo import DEMO_ORDERS
from tests.support.local_stack import Portal, RunningStack, new_seller, order_body, session, start_stack, wait_for


def story(output: str) -> list[str]:
    """The banner's shell lines, from its first numbered comment to the third command."""
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("# 1. "))
    block = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line)
    return block


def test_the_banners_commands_work_exactly_as_printed(stack: RunningStack):
    # Given the banner make run printed
    lines = story(stack.output())
    commands = [line for line in lines if not line.startswith("#")]
    assert len(commands) == 6
    assert commands[0].startswith("TOKEN=$(curl ") and commands[4].startswith("read AK SK < <(curl ")
    assert all(command.startswith("curl ") for command in commands[1:4] + commands[5:])

    # When a developer pastes them into a shell
    ran = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", "\n".join(lines)], capture_output=True, text=True, timeout=60
    )

    # Then each answer is followed by its status: cancelled at once, requested, refused, approved
    assert ran.returncode == 0, ran.stderr
    answers = re.split(r"\n-> HTTP (\d{3})\n", ran.stdout)
    statuses, documents = [int(code) for code in answers[1::2]], [json.loads(text) for text in answers[0::2][:-1]]
    assert statuses == [200, 202, 409, 200]
    cancelled, requested, refused, approved = documents
    assert (cancelled["reference"], cancelled["status"]) == ("SHOP-1001", "CANCELLED")
    assert (requested["reference"], requested["status"]) == ("SHOP-1002", "SENT_TO_WAREHOUSE")
    assert requested["cancellation"]["request"]["status"] == "REQUESTED"
    assert requested["cancellation"]["request"]["reason_code"] == "CUSTOMER_REQUEST"
    assert (refused["code"], refused["order_status"]) == ("CANCELLATION_PENDING", "SENT_TO_WAREHOUSE")
    assert (approved["status"], approved["cancellation"]["request"]["status"]) == ("CANCELLED", "APPROVED")
    # And S-1 is told of each outcome, after the demo's own notifications
    expected = [
        ("SHOP-1001", "ORDER_CANCELLED"),
        ("SHOP-1002", "CANCELLATION_REQUESTED"),
        ("SHOP-1002", "CANCELLATION_APPROVED"),
    ]
    told = wait_for(
        Portal(stack.api_url, "S-1").notifications,
        lambda found: [(n["reference"], n["event_type"]) for n in found[-3:]] == expected,
        timeout=15,
    )
    assert [(n["reference"], n["event_type"]) for n in told[-3:]] == expected

    # And S-1's own system received them on its webhook, signed, once each (in any order: the
    # delivery queue is a standard queue, and a batch is delivered in parallel)
    def story_deliveries() -> Counter:
        found = session().get(f"{stack.api_url}/_local/webhook-deliveries", params={"seller_id": "S-1"}, timeout=10)
        deliveries[:] = found.json()["deliveries"]
        return Counter(
            (d["body"]["reference"], d["event_type"])
            for d in deliveries
            if d["body"]["reference"] in ("SHOP-1001", "SHOP-1002")
        )

    deliveries: list[dict] = []
    received = wait_for(story_deliveries, lambda found: found == Counter(expected), timeout=15)
    assert received == Counter(expected)
    assert all(d["signature_valid"] for d in deliveries)


def test_the_banner_names_the_urls_and_every_demo_order(stack: RunningStack):
    output = stack.output()
    assert f"API       {stack.api_url}" in output
    assert f"AWS       {stack.aws_url}" in output
    assert f"{stack.api_url}/_local/openapi.json" in output
    assert f"Portal    {stack.portal_url}" in output.split("API       ")[0]  # the portal's URL first
    assert f"curl -s '{stack.api_url}/_local/webhook-deliveries?seller_id=S-1'" in output
    assert len(re.findall(r"^#   SHOP-10\d\d  ord_[a-z2-7]{26}  ", output, re.M)) == len(DEMO_ORDERS)  # as comments
    assert stack.ready_seconds < 30


def banner(output: str) -> list[str]:
    """What make run printed before its ready line, but the log lines of the demo's last deliveries (the
    delivery queue's poller may finish one as the banner is printed)."""
    lines = output.split("\nReady in ")[0].splitlines()
    return [line for line in lines if not re.match(r"\d\d:\d\d:\d\d [A-Z]+ ", line)]


def test_every_line_of_the_banner_is_a_comment_or_a_command_that_works_as_printed(stack: RunningStack):
    lines = banner(stack.output())
    commands = [line for line in lines if line.strip() and not line.startswith("#")]
    story_lines = story(stack.output())
    sign_in = story_lines[1]
    assert sign_in.startswith("TOKEN=$(curl ")
    # The story changes the demo orders: test_the_banners_commands_work_exactly_as_printed runs it once.
    # Everything else is run here, each after the story's sign-in (the feed's command uses its $TOKEN).
    others = [command for command in commands if command not in story_lines]
    assert len(others) == 8, others
    for command in others:
        if command.startswith("AWS_ACCESS_KEY_ID=") and shutil.which("aws") is None:
            # The AWS CLI is not installed here: the line must still be one a shell can run.
            checked = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, timeout=30)
            assert checked.returncode == 0, (command, checked.stderr)
            continue
        ran = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", f"{sign_in}\n{command}"], capture_output=True, text=True, timeout=60
        )
        assert ran.returncode == 0 and ran.stdout.strip(), (command, ran.stdout, ran.stderr)
        if "json.tool" in command or "warehouse-credentials" in command:
            json.loads(ran.stdout)

    # The warehouse's command names this stack (on a port of its own, not 3000) and reads its queue
    [warehouse_queue] = [command for command in others if "orders-warehouse" in command and " queue" in command]
    assert f"--api {stack.api_url} " in warehouse_queue and not stack.api_url.endswith(":3000")
    # S-1's feed, as the portal shows it, with the story's token
    [feed] = [command for command in others if "/notifications -H" in command]
    ran = subprocess.run(["bash", "-c", f"{sign_in}\n{feed}"], capture_output=True, text=True, timeout=60)
    assert {n["seller_id"] for n in json.loads(ran.stdout)["notifications"]} == {"S-1"}, (ran.stdout, ran.stderr)


def test_a_busy_port_is_a_plain_error(stack: RunningStack, tmp_path):
    port = stack.api_url.rsplit(":", 1)[1]
    with pytest.raises(RuntimeError) as refused:
        start_stack(tmp_path / "second.log", env={"PORT": port}, timeout=60)
    message = str(refused.value)
    assert "exited with 1" in message
    assert f"127.0.0.1:{port} is not free" in message
    assert "Traceback" not in message


class Flood:
    """Many sellers at once, each creating large orders (100 lines) and editing them, until stopped."""

    def __init__(self, api_url: str, sellers: int = 16):
        self.api_url = api_url
        self.answered = 0  # requests that got an answer, across the sellers
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._seller, daemon=True) for _ in range(sellers)]

    def __enter__(self) -> Flood:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _seller(self) -> None:
        try:
            portal = Portal(self.api_url, new_seller())
            while not self._stop.is_set():
                order = portal.request("POST", "/orders", {**order_body(), "items": self._items()}).json()
                self._count()
                for _ in range(5):
                    portal.request("PATCH", f"/orders/{order['order_id']}", {"items": self._items()})
                    self._count()
        except (requests.RequestException, ValueError, KeyError):
            return  # the stack stopped under it, as intended

    def _count(self) -> None:
        with self._lock:
            self.answered += 1

    @staticmethod
    def _items() -> list[dict]:
        return [{"sku": f"SKU-{uuid.uuid4().hex}-{line:03d}", "quantity": line + 1} for line in range(100)]


def stopped_within(running: RunningStack, stop: Callable[[], int]) -> tuple[int, float]:
    """The exit code of `stop()` and the seconds it took."""
    started = time.monotonic()
    code = stop()
    return code, time.monotonic() - started


STOP_SECONDS = 5  # "a few seconds", on a shared 2-core machine


def test_ctrl_c_stops_everything_cleanly(tmp_path):
    # Given a stack of its own (the module's is stopped the same way, by the fixture), kept busy
    running = start_stack(tmp_path / "orders-local.log")
    assert Portal(running.api_url, "S-1").request("GET", "/orders").status_code == 200
    with Flood(running.api_url) as flood:
        wait_for(lambda: flood.answered, lambda answered: answered >= 24, timeout=120)

        # When the developer presses Ctrl-C
        code, seconds = stopped_within(running, lambda: running.stop(timeout=20))

    # Then it stops within seconds, and its ports are free again
    assert seconds < STOP_SECONDS, running.output()[-3000:]
    assert code == 0
    assert running.output().rstrip().endswith("Stopped.")
    assert "Traceback" not in running.output()
    for url in (running.api_url, running.aws_url):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: past TIME_WAIT
            probe.bind(("127.0.0.1", int(url.rsplit(":", 1)[1])))


def test_sigterm_stops_a_busy_stack_within_seconds(tmp_path):
    # Given a stack flooded with large orders and their edits
    running = start_stack(tmp_path / "orders-local.log")
    with Flood(running.api_url) as flood:
        wait_for(lambda: flood.answered, lambda answered: answered >= 24, timeout=120)

        # When it is sent SIGTERM (as a process manager, or `kill`, stops it)
        def terminate() -> int:
            running.process.send_signal(signal.SIGTERM)
            try:
                return running.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                running.process.kill()
                return running.process.wait()

        code, seconds = stopped_within(running, terminate)

    # Then it stops as cleanly as on Ctrl-C, within seconds
    assert seconds < STOP_SECONDS, running.output()[-3000:]
    assert code == 0
    assert running.output().rstrip().endswith("Stopped.")
    assert "Traceback" not in running.output()
