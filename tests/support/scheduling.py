"""How the test run shares its tests among pytest-xdist's workers (`--dist loadgroup`, the Makefile's): the
collection hook tests/conftest.py registers. On its own, so that tests/unit/test_xdist_groups.py can run it in
a pytest of its own without the rest of tests/conftest.py (moto, botocore)."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """How `--dist loadgroup` (the Makefile's) shares the tests among the workers: one at a time, except the
    tests of a module that share a module-scoped fixture (a build, a browser, a seller with an order in every
    state) or a local stack, which run together on one worker so that it is made once; the modules on the
    fast-timer stack, which run together on one worker so that one such stack is started in all; and tests
    marked with an `xdist_group` of their own (test_fuzz's routes, in three groups that up to three workers can
    take at once: one file of 45 generated-request tests was five minutes on one worker). A test at a time keeps
    every worker busy to the end: by whole files, the last file's worker ran on alone for up to a minute."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        if "fast_stack" in fixtures:
            item.add_marker(pytest.mark.xdist_group("fast_stack"))
        elif "stack" in fixtures or _shares_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


# A module of tests on a local stack stays on one worker, which starts only the stacks its modules need, and
# the modules of timers share one worker and its one fast-timer stack (about 6 s of CPU to start a stack,
# and 2 % of a core to keep one idle until the run ends). Spread a test at a time (as pytest 9.2 made
# pytest-xdist do, unawares: tests/unit/test_xdist_groups.py), every worker started both stacks and made
# every module's fixtures: pytest took 418 s that way, 371 s grouped (one run each, this 2-core machine).


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    return any(definition.scope in ("module", "package", "class") for chain in definitions for definition in chain)
