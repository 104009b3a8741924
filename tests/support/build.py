"""The functions' deployment package: built as `sam build` builds it, unpacked as Lambda unpacks it.

`build` runs functions/Makefile's recipe (template.yaml: `BuildMethod: makefile`) for this
machine's platform and one of its Pythons (this one unless told), so that what it ships can be
imported here; `sam_default_build` is what SAM's own Python builder would ship instead; `unpack` zips
a package as `sam package` does (entries without dates, read as 1980-01-01) and extracts it with
those dates, as /var/task has them;
`runtime_directory` stands for /var/runtime.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from datetime import datetime
from functools import cache
from pathlib import Path

from packaging import tags

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
# What the Python runtime provides in /var/runtime (functions/Makefile leaves them out of the package).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
# The wheels this machine can load (manylinux_2_39_x86_64 ... on Linux, macosx_* on a Mac).
PLATFORMS = " ".join(dict.fromkeys(tags.platform_tags()))


@cache
def python_version(python: str = sys.executable) -> str:
    """ "3.12" for a python3.12."""
    if python == sys.executable:
        return "{}.{}".format(*sys.version_info[:2])
    query = [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    return subprocess.run(query, capture_output=True, text=True, check=True).stdout.strip()


def build(function: str, artifacts: Path, code: Path = FUNCTIONS, python: str = sys.executable) -> Path:
    """`sam build`'s artifacts for `function` from the functions/ tree `code`, by functions/Makefile."""
    artifacts.mkdir(parents=True, exist_ok=True)
    command = [
        "make",
        "--no-print-directory",
        "-f",
        str(FUNCTIONS / "Makefile"),
        "-C",
        str(code),
        f"build-{function}",
        f"ARTIFACTS_DIR={artifacts}",
        f"LAMBDA_PYTHON={python}",
        f"LAMBDA_PYTHON_VERSION={python_version(python)}",
        f"LAMBDA_PLATFORMS={PLATFORMS}",
    ]
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{finished.stdout}{finished.stderr}")
    return artifacts


def sam_default_build(artifacts: Path, code: Path = FUNCTIONS, python: str = sys.executable) -> Path:
    """What SAM's own Python builder ships: requirements.txt and everything it requires (botocore
    too, through aws-xray-sdk), and the code package, with no bytecode that Lambda could use."""
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(artifacts),
            "--requirement",
            str(code / "requirements.txt"),
        ],
        check=True,
        capture_output=True,
    )
    shutil.copytree(code / "orders", artifacts / "orders", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return artifacts


def unpack(artifacts: Path, task: Path) -> Path:
    """`artifacts` zipped as `sam package` zips it and extracted into `task` with the zip's dates."""
    archive_path = task.with_suffix(".zip")
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(artifacts.rglob("*")):
            if path.is_file():
                entry = zipfile.ZipInfo(path.relative_to(artifacts).as_posix())  # no date: 1980-01-01
                entry.external_attr = (path.stat().st_mode & 0xFFFF) << 16
                archive.writestr(entry, path.read_bytes())
    with zipfile.ZipFile(archive_path) as archive:
        for entry in archive.infolist():
            extracted = archive.extract(entry, task)
            stamp = datetime(*entry.date_time).timestamp()
            os.utime(extracted, (stamp, stamp))
    archive_path.unlink()
    return task


@cache
def runtime_directory(python: str = sys.executable) -> Path:
    """/var/runtime: the runtime's boto3 and its dependencies, with bytecode, for `python`: linked
    from this virtualenv, or for another Python installed from the index at this one's versions."""
    runtime = Path(tempfile.mkdtemp(prefix="var-runtime-"))
    if python != sys.executable:
        from importlib.metadata import version

        pinned = [f"{name}=={version(name)}" for name in RUNTIME_PROVIDED]
        install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(runtime)]
        subprocess.run([*install, "--no-deps", *pinned], check=True, capture_output=True)
        return runtime
    for name in RUNTIME_PROVIDED:
        for top in _top_levels(name):
            (runtime / top).symlink_to(SITE_PACKAGES / top)
    return runtime


def _top_levels(name: str) -> set[str]:
    """The packages and modules a distribution installs at the top of site-packages."""
    from importlib.metadata import distribution

    found = set()
    for file in distribution(name).files or ():
        top = file.parts[0]
        if top in ("..", "__pycache__") or top.endswith((".data", ".dist-info")):
            continue
        found.add(top)
    return found
