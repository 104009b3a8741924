"""The repository documents its own API: nothing points outside it, and docs/api.md names every route."""

from __future__ import annotations

import subprocess
from pathlib import Path

from infra.template import routes

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = "../" + "shared"  # spelled in two parts so that this file does not name it


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def test_nothing_in_the_repository_points_at_a_folder_outside_it():
    pointing = [
        str(path.relative_to(ROOT)) for path in tracked_text_files() if OUTSIDE in path.read_text(errors="ignore")
    ]
    assert pointing == []


def test_the_api_document_names_every_route_of_the_template():
    document = (ROOT / "docs" / "api.md").read_text()
    missing = [f"{route.method} {route.path}" for route in routes() if f"`{route.method} {route.path}`" not in document]
    assert missing == []


def test_the_readme_gives_receivers_the_very_code_the_tests_verify_with():
    from infra.template import ROOT

    code = (ROOT / "infra" / "local" / "verify_signature.py").read_text()
    assert f"```python\n{code}```" in (ROOT / "README.md").read_text()
