"""`python -m tests.bench` (`make bench`): run the sections and print their tables.

python -m tests.bench                          # every section
python -m tests.bench --sections cold,warm     # some of them
python -m tests.bench --compare before=/tmp/functions-before --sections cold,warm,delivery
                                               # another functions/ tree, measured in the same run
python -m tests.bench --quick                  # fewer rounds, for trying the bench itself
python -m tests.bench --instructions           # cold starts also counted in instructions (valgrind)
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.environment import FUNCTIONS

SECTIONS = (
    "cold",
    "warm",
    "requests",
    "bulk",
    "throughput",
    "latency",
    "delivery",
    "cost",
)  # cost last: it uses the others


def _machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"Machine: {os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.system()} "
        f"{platform.release()}; code at {commit or '?'}{' plus uncommitted changes' if changed else ''}; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def run_section(
    name: str,
    arguments: argparse.Namespace,
    trees: list[tuple[str, Path]],
    rounds: int,
    only: tuple[str, ...],
    figures: dict[str, object],
    stack: Any,
) -> str:
    """One section's table; its figures go into `figures` for the sections after it."""
    if name == "cold":
        from tests.bench import cold

        variants = [cold.Variant(label, code) for label, code in trees]
        if not arguments.no_tracing:
            variants += [cold.Variant(f"{label}, tracing on", code, tracing=True) for label, code in trees]
        if not arguments.no_sam_default:
            variants += [
                cold.Variant(f"{label}, SAM's default build", code, build="sam-default") for label, code in trees
            ]
        text, figures["cold"] = cold.measure(
            variants,
            rounds,
            only=only,
            count_instructions=arguments.instructions,
            python=arguments.python or sys.executable,
        )
        return text
    if name == "warm":
        from tests.bench import warm

        quick = arguments.quick
        text, figures["warm"] = warm.measure(
            trees, 2 if quick else 5, invocations=40, batches=5 if quick else 15, only=only
        )
        warm.persist(figures["warm"]["durations"])  # for `make capacity`
        return text + "\nDurations on moto written to docs/lambda-durations.json (make capacity reads them).\n"
    if name == "delivery":
        from tests.bench import delivery

        text, figures["delivery"] = delivery.measure(trees, 2 if arguments.quick else 5)
        return text
    if name == "requests":
        from tests.bench import calls

        text, figures["requests"] = calls.measure()
        return text
    if name == "bulk":
        from tests.bench import bulk

        text, figures["bulk"] = bulk.measure(rounds=2 if arguments.quick else 3)
        return text
    if name in ("throughput", "latency"):
        from tests.bench import load

        if name == "throughput":
            text, figures["throughput"] = load.throughput(
                stack, 1.5 if arguments.quick else 3, 1 if arguments.quick else 3
            )
        else:
            text, figures["latency"] = load.latency(stack, 30 if arguments.quick else 100)
        return text
    from tests.bench import cost

    if "warm" not in figures:
        return "(cost needs the warm section's figures: run it with warm)\n"
    text, figures["cost"] = cost.measure(figures)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=DIR", help="another functions/ tree")
    parser.add_argument("--rounds", type=int, default=9, help="cold-start rounds (default 9)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and shorter runs")
    parser.add_argument(
        "--functions", default="", help="cold and warm: only these functions (comma-separated logical ids)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="cold: also count instructions under valgrind (slow, but noise-free)",
    )
    parser.add_argument("--no-tracing", action="store_true", help="skip the cold starts with X-Ray tracing on")
    parser.add_argument(
        "--python",
        default="",
        metavar="PATH",
        help="cold: run the cold starts under this Python (e.g. a python3.12, the runtime's)",
    )
    parser.add_argument(
        "--no-sam-default", action="store_true", help="skip the cold start of the package SAM's own builder would ship"
    )
    arguments = parser.parse_args(argv)
    sections = [name.strip() for name in arguments.sections.split(",") if name.strip()]
    for name in sections:
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}")
    trees = [("current", FUNCTIONS)] + [
        (label, Path(directory).resolve()) for label, directory in (item.split("=", 1) for item in arguments.compare)
    ]
    rounds = 3 if arguments.quick else arguments.rounds
    only = tuple(name.strip() for name in arguments.functions.split(",") if name.strip())

    print(_machine(), flush=True)
    print(flush=True)
    figures: dict[str, object] = {}
    stack = None
    try:
        for name in sections:
            started = time.monotonic()
            if name in ("throughput", "latency") and stack is None:
                from tests.bench.load import Stack

                stack = Stack()  # the local stack, in its own process, for both sections
            text = run_section(name, arguments, trees, rounds, only, figures, stack)
            print(text, flush=True)
            print(f"({name}: {time.monotonic() - started:.0f} s)\n", flush=True)
    finally:
        if stack is not None:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
