"""`orders-local`, the command `make run` runs: the stack on PORT, MOTO_PORT and PORTAL_PORT until Ctrl-C.

Here live the command line's own parts: the environment it reads (the ports, and `PARAM_<Name>`
overrides of template parameters, checked as CloudFormation would), the signals that stop it,
and the lines it prints (the banner, banner.py's, then the ready line tests wait for).
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

from infra import template
from infra.local.banner import banner
from infra.local.served import PortInUse
from infra.local.stack import LocalStack

PARAMETER_PREFIX = "PARAM_"


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
    """`orders-local` (make run): start on PORT (3000) and MOTO_PORT (5000), print the banner, run until Ctrl-C."""
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
        print(banner(stack, overridden_by=PARAMETER_PREFIX), flush=True)
        print(
            f"Ready in {_since_process_start(started):.1f} s: portal {stack.portal.url}, API {stack.api_url}, "
            f"AWS {stack.aws_url}. Ctrl-C stops.",
            flush=True,
        )
        while not stop.wait(0.2):
            pass
        print("Stopping ...", flush=True)
        stack.stop()
    print("Stopped.", flush=True)
    return 0


@contextmanager
def _signals_set(stop: threading.Event) -> Iterator[None]:
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda *_: stop.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


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
