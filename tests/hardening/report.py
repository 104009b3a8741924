"""A pytest plugin that prints the hardening figures at the end of a run, xdist or not.

Under pytest-xdist the workers record the figures (conftest.py, figures.py); only the
controller prints, and it loads conftest files of subdirectories only on the workers. Load
this from the command line or addopts to have it print: `pytest -p tests.hardening.report`.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.hardening.figures import LAST_RUN, render

_started = time.time()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None or getattr(config, "_hardening_summary", None):
        return  # a worker, or a run without xdist whose conftest already printed
    if LAST_RUN.exists() and LAST_RUN.stat().st_mtime >= _started:
        terminalreporter.write_sep("-", "hardening figures")
        terminalreporter.write_line(render(json.loads(LAST_RUN.read_text())))
