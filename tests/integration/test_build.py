"""The deployment package functions/Makefile builds, as Lambda unpacks it: it holds what the handlers
import, leaves out what the runtime provides, and ships bytecode that Lambda can use (no timings here;
`make bench` measures what that buys).

The recipe runs for this machine's Python and platform (tests/support/build.py), so that the package
can be imported here; for Lambda it runs for python3.12 on arm64, the same steps. It installs from
the package index, as `sam build` does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.template import handlers, resources
from tests.support import build as packaging

# Imports each module in a fresh interpreter and lists the files it had to compile on the way:
# a compile during an import means the bytecode shipped for that file did not validate.
COMPILED = """
import importlib, json, sys
task = sys.argv[1]
compiled = []
def record(event, args):
    if event == "compile" and str(args[1]).startswith(task):
        compiled.append(args[1])
sys.addaudithook(record)
loaded = {name: importlib.import_module(name).__file__ for name in sys.argv[2:]}
print(json.dumps({"compiled": compiled, "loaded": loaded}))
"""

ENVIRONMENT = {
    "PATH": "/usr/bin:/bin",
    "AWS_REGION": "eu-west-2",
    "TABLE_NAME": "orders",
    "TOPIC_ARN": "arn:aws:sns:eu-west-2:123456789012:order-events",
    "POWERTOOLS_SERVICE_NAME": "order-cancellations",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
RUNTIME_TOP_LEVELS = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py")


def handler_modules() -> list[str]:
    return sorted(handler.rsplit(".", 1)[0] for handler in handlers().values())


def cold_imports(task: Path) -> dict:
    """Every handler module imported as Lambda's init would: /var/task then /var/runtime, read-only (-B)."""
    python_path = f"{task}:{packaging.runtime_directory()}"
    finished = subprocess.run(
        [sys.executable, "-S", "-B", "-c", COMPILED, str(task), *handler_modules()],
        env={**ENVIRONMENT, "PYTHONPATH": python_path},
        capture_output=True,
        text=True,
        cwd=task,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return packaging.build("CancelOrderFunction", tmp_path_factory.mktemp("build") / "artifacts")


@pytest.fixture(scope="module")
def task(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return packaging.unpack(artifacts, tmp_path_factory.mktemp("lambda") / "task")


def test_every_function_is_built_by_the_makefile() -> None:
    functions = resources("AWS::Serverless::Function")

    for name, function in functions.items():
        assert function.get("Metadata", {}).get("BuildMethod") == "makefile", name
        dry_run = subprocess.run(
            ["make", "-n", "-C", str(packaging.FUNCTIONS), f"build-{name}", "ARTIFACTS_DIR=/nowhere"],
            capture_output=True,
            text=True,
        )
        assert dry_run.returncode == 0, dry_run.stderr


def test_a_build_without_an_artifacts_directory_is_refused() -> None:
    finished = subprocess.run(
        ["make", "-C", str(packaging.FUNCTIONS), "build-CancelOrderFunction"], capture_output=True, text=True
    )

    assert finished.returncode != 0
    assert "ARTIFACTS_DIR is not set" in finished.stderr


def test_a_build_with_the_wrong_python_says_which_to_use(tmp_path: Path) -> None:
    finished = subprocess.run(
        [
            "make",
            "-C",
            str(packaging.FUNCTIONS),
            "build-CancelOrderFunction",
            f"ARTIFACTS_DIR={tmp_path}",
            f"LAMBDA_PYTHON={sys.executable}",
            "LAMBDA_PYTHON_VERSION=3.0",
        ],
        capture_output=True,
        text=True,
    )

    assert finished.returncode != 0
    assert "the runtime is 3.0: set LAMBDA_PYTHON" in finished.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_package_holds_the_code_and_its_dependencies_and_not_the_runtimes(artifacts: Path) -> None:
    shipped = {path.name for path in artifacts.iterdir()}

    assert {"orders", "aws_lambda_powertools", "pydantic", "pydantic_core", "aws_xray_sdk"} <= shipped
    assert not shipped & set(RUNTIME_TOP_LEVELS)
    assert not [name for name in shipped if name.startswith(("boto3-", "botocore-", "urllib3-"))]
    for module in handler_modules():
        assert (artifacts / (module.replace(".", "/") + ".py")).is_file(), module


def test_every_source_file_ships_with_bytecode_that_needs_no_date(artifacts: Path) -> None:
    tag = sys.implementation.cache_tag
    sources = list(artifacts.rglob("*.py"))

    missing = [path for path in sources if not (path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").is_file()]
    # PEP 552: bit 0 of the flags word says hash-based, bit 1 "check the source": 0b01 is unchecked.
    flags = {int.from_bytes(path.read_bytes()[4:8], "little") for path in artifacts.rglob(f"*.{tag}.pyc")}

    assert len(sources) > 500
    assert missing == []
    assert flags == {0b01}


def test_every_handler_imports_from_the_unpacked_package_without_compiling(task: Path) -> None:
    imported = cold_imports(task)

    assert imported["compiled"] == []
    assert all(path.startswith(str(task)) for path in imported["loaded"].values())


def test_the_bytecode_pip_writes_would_be_compiled_again_at_every_cold_start(artifacts: Path, tmp_path: Path) -> None:
    # Given the same package with pip's kind of bytecode: checked against the source's date
    timestamped = shutil.copytree(artifacts, tmp_path / "artifacts")
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-f", str(timestamped / "orders")], check=True)

    # When it is zipped and unpacked as Lambda does, and the handlers imported
    imported = cold_imports(packaging.unpack(timestamped, tmp_path / "task"))

    # Then each of our modules is compiled again: the zip's dates do not match the ones recorded
    compiled = {Path(path).relative_to(tmp_path / "task").as_posix() for path in imported["compiled"]}
    assert {module.replace(".", "/") + ".py" for module in handler_modules()} <= compiled
