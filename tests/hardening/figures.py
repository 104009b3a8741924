"""The figures the hardening tests record, summed over pytest-xdist workers into one JSON file.

Each test adds to named counters (`figures.add("generated_requests", n)`). At the end of the
session every worker writes its own counters to `.pytest_cache/hardening/<run>-<worker>.json`
and merges every file of the same run into `.pytest_cache/hardening/last-run.json`; the worker
that finishes last leaves the complete total there. `python -m tests.hardening.figures` prints it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = ROOT / ".pytest_cache" / "hardening"
LAST_RUN = DIRECTORY / "last-run.json"

# The names docs/reliability.md quotes, in the order it quotes them.
ORDER = (
    "http_requests",
    "generated_requests",
    "hand_written_requests",
    "auth_matrix_cells",
    "server_errors",
    "stack_traces",
    "stateful_examples",
    "stateful_steps",
    "race_rounds",
    "fault_scenarios",
    "faults_injected",
    "load_requests",
    "load_orders_audited",
    "events_checked",
    "duplicate_deliveries",
    "invariant_checks",
    "invariant_violations",
    "hardening_tests_passed",
    "hardening_tests_failed",
)


class Figures:
    """Counters and a few notes (durations, versions), safe to add to from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self.notes: dict[str, object] = {}

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counters[name] += amount

    def note(self, name: str, value: object) -> None:
        with self._lock:
            self.notes[name] = value

    def as_dict(self) -> dict[str, object]:
        with self._lock:
            return {"counters": dict(self.counters), "notes": dict(self.notes)}


FIGURES = Figures()


def write_and_merge(run_id: str, worker: str, started: float) -> dict[str, object]:
    """Write this worker's figures, then merge every worker's of this run into last-run.json."""
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    own = DIRECTORY / f"{run_id}-{worker}.json"
    own.write_text(json.dumps({"worker": worker, "started": started, "finished": time.time(), **FIGURES.as_dict()}))
    with open(DIRECTORY / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        parts = [json.loads(path.read_text()) for path in sorted(DIRECTORY.glob(f"{run_id}-*.json"))]
        for stale in DIRECTORY.glob("*-*.json"):
            # Another run's, finished before this one started.
            if not stale.name.startswith(run_id) and stale.stat().st_mtime < started - 60:
                stale.unlink(missing_ok=True)
        total: Counter[str] = Counter()
        notes: dict[str, object] = {}
        for part in parts:
            total.update(part["counters"])
            notes.update(part["notes"])
        for name in ("invariant_violations", "server_errors", "stack_traces"):
            total.setdefault(name, 0)
        summary = {
            "run": run_id,
            "workers": [part["worker"] for part in parts],
            "wall_seconds": round(max(p["finished"] for p in parts) - min(p["started"] for p in parts), 1),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "figures": {name: total[name] for name in sorted(total, key=_rank)},
            "notes": notes,
        }
        tmp = LAST_RUN.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=2))
        os.replace(tmp, LAST_RUN)
    return summary


def _rank(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def render(summary: dict[str, object]) -> str:
    lines = [f"hardening figures (run {summary['run']}, {summary['finished_at']}, {summary['wall_seconds']} s)"]
    lines += [f"  {name:<28} {value}" for name, value in summary["figures"].items()]  # type: ignore[union-attr]
    for name, value in summary.get("notes", {}).items():  # type: ignore[union-attr]
        lines.append(f"  {name:<28} {value}")
    return "\n".join(lines)


if __name__ == "__main__":
    if not LAST_RUN.exists():
        sys.exit("no hardening run recorded yet: run `make test` (or pytest tests/hardening)")
    print(render(json.loads(LAST_RUN.read_text())))
