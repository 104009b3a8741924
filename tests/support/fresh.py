"""A function's module imported alone in a fresh interpreter, as Lambda's init imports it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from infra.template import ROOT


def import_alone(script: str, module: str, **environment: str) -> Any:
    """Run `script` (which imports sys.argv[1] and prints JSON) with only functions/ on the path and a
    bare environment plus `environment`; what it printed, parsed."""
    result = subprocess.run(
        [sys.executable, "-c", script, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={
            "PYTHONPATH": f"{ROOT / 'functions'}",
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "eu-west-2",
            **environment,
        },
    )
    return json.loads(result.stdout)
