"""A pytest plugin that prints, at the end of a run, how long each tier of tests took: `-p tests.tiers`.

A tier is the folder under tests/ (unit, integration, e2e, hardening). Its figure is the time its
tests took, set-up and teardown included, summed over the workers; beside it, the run's wall time.
Under pytest-xdist the controller sees every report, so only it prints.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

_started = time.monotonic()
_seconds: Counter[str] = Counter()
_tests: Counter[str] = Counter()


def _tier(nodeid: str) -> str:
    parts = nodeid.replace("\\", "/").split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else "other"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    tier = _tier(report.nodeid)
    _seconds[tier] += report.duration
    if report.when == "call":
        _tests[tier] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None or not _seconds:
        return
    terminalreporter.write_sep("-", "time by tier")
    for tier in ("unit", "integration", "e2e", "hardening", "other"):
        if _seconds[tier]:
            terminalreporter.write_line(f"  {tier:<12} {_tests[tier]:5d} tests  {_seconds[tier]:7.1f} s of test time")
    workers = getattr(config.option, "numprocesses", None) or 1
    terminalreporter.write_line(f"  {'wall time':<12} {time.monotonic() - _started:18.1f} s on {workers} worker(s)")
