"""Fixtures of the hardening tests, and the hooks that record their figures (see figures.py)."""

from __future__ import annotations

import time
import uuid

import pytest

pytest.register_assert_rewrite("tests.hardening.wire")

from tests.hardening.figures import FIGURES, render, write_and_merge  # noqa: E402 - after the rewrite hook

_started = time.time()
_ran = False


@pytest.fixture
def figures():
    return FIGURES


@pytest.fixture(scope="session")
def local_stack(stack):
    """The shared local stack (tests/conftest.py's `stack`); the tracebacks its log holds are a figure."""
    yield stack
    FIGURES.add("stack_traces", stack.output().count("Traceback"))


@pytest.fixture
def wire():
    """HTTP to the local stack, every answer counted; no 5xx but 503, no stack trace."""
    from tests.hardening.wire import Wire

    with Wire() as session:
        yield session
        session.assert_clean()


def _is_xdist_controller(config: pytest.Config) -> bool:
    """The controller of an xdist run sees the workers' reports but records nothing itself."""
    return getattr(config, "workerinput", None) is None and config.pluginmanager.has_plugin("dsession")


def pytest_configure(config: pytest.Config) -> None:
    global _controller
    _controller = _is_xdist_controller(config)


_controller = False


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _ran
    if _controller or "tests/hardening/" not in report.nodeid.replace("\\", "/"):
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _ran = True
        if report.passed:
            FIGURES.add("hardening_tests_passed")
        elif report.failed:
            FIGURES.add("hardening_tests_failed")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _ran or _is_xdist_controller(session.config):
        return
    config = session.config
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run_id, worker = workerinput["testrunuid"], workerinput["workerid"]
    else:
        run_id = getattr(config, "_hardening_run_id", None) or uuid.uuid4().hex
        worker = "main"
    summary = write_and_merge(run_id, worker, _started)
    config._hardening_summary = summary  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    # Shown when pytest runs without xdist; under xdist, see .pytest_cache/hardening/last-run.json.
    summary = getattr(config, "_hardening_summary", None)
    if summary:
        terminalreporter.write_line(render(summary))
