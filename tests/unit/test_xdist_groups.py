"""The test run's own scheduling (tests/support/scheduling.py's collection hook under `--dist loadgroup`): a
module whose tests share a module-scoped fixture runs on one worker, so the fixture is made once.

pytest-xdist marks a group by changing each test's node id, which pytest 9.2 no longer lets it do
(pytest-dev/pytest-xdist#1386): every group was silently spread over the workers, and `make test` took
418 s instead of 371 s (each worker made every module's fixtures and both local stacks). pyproject.toml
keeps pytest below 9.2; this fails if a later pytest or pytest-xdist spreads a group again.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_modules_tests_sharing_a_module_fixture_run_on_one_worker(tmp_path: Path):
    hook = "from tests.support.scheduling import pytest_collection_modifyitems  # noqa: F401\n"
    (tmp_path / "conftest.py").write_text(hook)
    (tmp_path / "test_shared.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.fixture(scope="module")
            def made_once():
                return object()

            @pytest.mark.parametrize("number", range(12))
            def test_shares(made_once, number):
                pass
            """
        )
    )
    (tmp_path / "test_alone.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('n', range(6))\ndef test_alone(n):\n    pass\n"
    )
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'functions'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, test in re.findall(r"\[(gw\d)\] \[ *\d+%\] PASSED (\S+)", ran.stdout):
        workers[test.split("::")[0].rsplit("/", 1)[-1]].add(worker)
    assert len(workers["test_shared.py"]) == 1, ran.stdout
    assert workers["test_alone.py"], ran.stdout
