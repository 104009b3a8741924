"""`orders-local`, the command `make run` runs: the stack on PORT, MOTO_PORT and PORTAL_PORT until Ctrl-C.

Here live the command line's own parts: the environment it reads (the ports, and `PARAM_<Name>`
overrides of template parameters, checked as CloudFormation would), the signals that stop it,
and the lines it prints (the banner, banner.py's, then the ready line tests wait for).

Ctrl-C or SIGTERM stops the stack within seconds however busy it is (LocalStack.stop); a second
one exits at once, and a watchdog exits anyway should the stop or the interpreter's exit hang.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from infra import template
from infra.local.banner import banner
from infra.local.collector import collect_less
from infra.local.served import PortInUse
from infra.local.stack import LocalStack

PARAMETER_PREFIX = "PARAM_"
# LocalStack.stop takes STOP_SECONDS at most: past this, something hangs the stop or the exit.
HARD_STOP_SECONDS = 10


def parameter_overrides(environment: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The template parameters that `PARAM_<ParameterName>=value` variables override, and what is refused."""
    overrides, refused = {}, []
    for variable, value in sorted(environment.items()):
        if not variable.startswith(PARAMETER_PREFIX):
            continue
        name = variable.removeprefix(PARAMETER_PREFIX)
        reason = template.parameter_error(name, value)
        if reason:
            refused.append(f"{variable}: {reason}")
        else:
            overrides[name] = value
    return overrides, refused


def main() -> int:
    """`orders-local` (make run): start on PORT (3000) and MOTO_PORT (5000), print the banner, run until Ctrl-C.

    Returns only when the stack did not start (2: a refused PARAM_, 1: a taken port); once it ran,
    the process ends in here, after "Stopped.", with 0."""
    started = time.monotonic()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout)
    logging.getLogger("orders-local").setLevel(logging.INFO)
    # Lambda would log it once per cold start; locally it says nothing about the code.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    overrides, refused = parameter_overrides(os.environ)
    for reason in refused:
        print(f"orders-local: {reason}", file=sys.stderr)
    if refused:
        return 2
    stop = threading.Event()
    with _signals_set(stop):
        stack = LocalStack(
            port=int(os.environ.get("PORT", "3000")),
            moto_port=int(os.environ.get("MOTO_PORT", "5000")),
            portal_port=int(os.environ.get("PORTAL_PORT", "8080")),
            parameter_overrides=overrides,
        )
        try:
            stack.start()
        except PortInUse as error:
            print(f"orders-local: {error}", file=sys.stderr)
            return 1
        # One write: a log line of the demo's last delivery cannot land among the banner's lines.
        print(
            banner(stack, overridden_by=PARAMETER_PREFIX)
            + f"\nReady in {_since_process_start(started):.1f} s: portal {stack.portal.url}, API {stack.api_url}, "
            f"AWS {stack.aws_url}. Ctrl-C stops.",
            flush=True,
        )
        collect_less()
        while not stop.wait(0.2):
            pass
        print("Stopping ...", flush=True)
        stack.stop()
    print("Stopped.", flush=True)
    # Everything the stack held was in memory and is thrown away. The interpreter's own exit would
    # first collect and free it object by object: after a flood of large orders, gigabytes of moto's
    # items, seconds to minutes at 100 % CPU after "Stopped." (and it joins thread pools). Nothing is
    # left to flush or join, so the process ends here.
    _exit_now(None, 0)


@contextmanager
def _signals_set(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set `stop`, and arm the watchdog; a second one exits at once."""

    def stop_requested(number: int, frame: object) -> None:
        if stop.is_set():
            _exit_now(f"{signal.Signals(number).name} again: exiting at once", 128 + number)
        stop.set()
        # The second line of defence, not the way it stops: should a thread hang the stop, or the
        # interpreter's exit (which joins thread pools), the process ends all the same.
        watchdog = threading.Timer(
            HARD_STOP_SECONDS, _exit_now, (f"still stopping after {HARD_STOP_SECONDS} s: exiting anyway", 1)
        )
        watchdog.daemon = True
        watchdog.start()

    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, stop_requested)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _exit_now(reason: str | None, code: int) -> NoReturn:
    """End the process now, without the interpreter's teardown; what was printed is flushed first."""
    if reason:
        print(f"orders-local: {reason}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _since_process_start(fallback: float) -> float:
    """Seconds since this process was started (interpreter start-up included), from /proc where there is one."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic() - fallback


if __name__ == "__main__":
    sys.exit(main())
