"""`make capacity` (`python -m infra.capacity`): each resource's use at a traffic profile as a share of its
limit, the first to saturate and the load at which it does, write units per order lifecycle per index,
and the cost per million orders.

python -m infra.capacity                                  # the three profiles of profiles.toml
python -m infra.capacity --profile large                  # one of them
python -m infra.capacity --orders-per-second 250          # medium's traffic, scaled to 250 orders a second
python -m infra.capacity --set largest_seller_share=0.5   # change a field of the profile(s)
python -m infra.capacity --template /tmp/template-before.yaml --lifecycles
                                                          # another template (write units only)
python -m infra.capacity --derive seller_status=seller_id,status
                                                          # as if the store wrote an attribute it does not yet
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.capacity import data
from infra.capacity.model import Inputs, analyse
from infra.capacity.report import cost_report, functions_report, header, lifecycles, profile_report, sources
from infra.capacity.stack import Stack
from infra.capacity.writes import derive, unwritten_keys
from infra.template import TEMPLATE


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, separator, setting = value.partition("=")
        if not separator or not name:
            raise SystemExit(f"{flag} takes NAME=VALUE, not {value!r}")
        pairs[name.strip()] = setting.strip()
    return pairs


def _profiles(arguments: argparse.Namespace) -> list[data.Profile]:
    named = data.profiles()
    unknown = [name for name in arguments.profile if name not in named]
    if unknown:
        raise SystemExit(f"no profile {', '.join(unknown)} in {data.PROFILES.name} (it has {', '.join(named)})")
    chosen = [named[name] for name in arguments.profile] or list(named.values())
    if arguments.orders_per_second:
        base = named[arguments.profile[0]] if arguments.profile else named["medium"]
        scaled = base.scaled(arguments.orders_per_second / base.orders_per_second)
        chosen = [scaled.renamed(f"{base.name}, scaled to {arguments.orders_per_second:g}")]
    settings = {name: float(value) for name, value in _pairs(arguments.set, "--set").items()}
    return [profile.with_values(settings) for profile in chosen]


def inputs(template: Path, derived: dict[str, tuple[str, ...]]) -> Inputs:
    from orders.domain import NOTIFIED_EVENT_NAMES

    table, measured = data.command_table(), data.measured()
    if derived:
        table, measured = derive(table, measured, derived)
    return Inputs(Stack.read(template), table, measured, data.aws(), data.durations(), frozenset(NOTIFIED_EVENT_NAMES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.capacity", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="the template to read (template.yaml)")
    parser.add_argument("--profile", action="append", default=[], help="a profile of profiles.toml (repeatable)")
    parser.add_argument("--orders-per-second", type=float, help="the profile (medium unless named) scaled to this")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a profile field")
    parser.add_argument(
        "--derive",
        action="append",
        default=[],
        metavar="ATTRIBUTE=SOURCE,...",
        help="as if the store wrote ATTRIBUTE with every write of a SOURCE (their values joined by #)",
    )
    parser.add_argument("--lifecycles", action="store_true", help="only the write units per order lifecycle")
    arguments = parser.parse_args(argv)
    try:
        derived = {name: tuple(value.split(",")) for name, value in _pairs(arguments.derive, "--derive").items()}
        model = inputs(arguments.template, derived)
        print(header(model))
        for warning in unwritten_keys(model.spec, model.table):
            print(f"  WARNING: {warning} (--derive previews a key the store does not write yet)")
        if derived:
            previewed = ", ".join(f"{name} = {'#'.join(sources)}" for name, sources in derived.items())
            print(f"  previewed as written by the store: {previewed}")
        print("\n## Write units per order lifecycle (table and each index; items as measured, measured.json)\n")
        print(lifecycles(model))
        if arguments.lifecycles:
            return 0
        analyses = [analyse(model, profile) for profile in _profiles(arguments)]
        for analysis in analyses:
            print()
            print(profile_report(model, analysis))
        print("\n## Cost per million orders\n")
        print(cost_report(analyses))
        print(f"\n## Lambda at {analyses[-1].profile.name}: billed at the template's memory\n")
        print(functions_report(analyses[-1]))
        print("\n## Where the figures come from (infra/capacity/aws.toml)\n")
        print(sources(model))
    except data.DataError as error:
        print(f"make capacity: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
