"""What `make run` prints once the stack is up: where everything is, and commands to paste.

Every line is a shell comment (`#`) or a command that works exactly as printed, so that any of
them, or the whole banner, can be pasted into a shell (tests/e2e/test_make_run.py runs them): the
URLs, the template's resources and the parameters in force, the demo orders (their ids derive
from seller and reference, see demo.py), the help-centre article's story, and how to see what
was told and stored. Commands name this stack's own URLs, so they work on any PORT.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra import template
from infra.local.demo import DEMO_ORDERS, DEMO_SELLERS

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

STATUS_LINE = "\\n-> HTTP "  # what the banner's curl commands print before each status code


def banner(stack: LocalStack, *, overridden_by: str) -> str:
    """The banner of a started stack; a parameter's override is shown as its variable (`overridden_by` + name)."""
    from orders.item import order_id_for

    resources = stack.resources
    pool_id = next(iter(resources.user_pools.values()))
    details = {
        "stage": resources.stage,
        "region": stack.region,
        "Table": resources.table_name,
        "Topic": ", ".join(resources.topics.values()),
        "Queues": ", ".join(sorted(queue.url.rsplit("/", 1)[1] for queue in resources.queues.values())),
        "User pool": f"{pool_id} (app client {resources.token_client_id(pool_id)})",
    }
    if resources.not_emulated:
        details["Not here"] = ", ".join(resources.not_emulated)
    parameters = {**template.parameters(), **stack.parameter_overrides}
    return _text(
        portal_url=stack.portal.url if stack.portal else None,
        parameters={
            name: f"{value} ({overridden_by}{name})" if name in stack.parameter_overrides else value
            for name, value in parameters.items()
        },
        schedules=list(stack.schedules.schedules.values()),
        api_url=stack.api_url,
        aws_url=stack.aws_url,
        details=details,
        order_id_for=order_id_for,
        seeded=stack.seed_demo,
    )


def story_commands(api_url: str, order_id_for: Any, region: str) -> list[str]:
    """The help-centre article's story as shell lines that work exactly as printed."""
    pending = order_id_for("S-1", "SHOP-1001")
    in_warehouse = order_id_for("S-1", "SHOP-1002")
    show = f"-w '{STATUS_LINE}%{{http_code}}\\n'"  # each answer, then its status code on a line of its own
    return [
        "# 1. Sign in as seller S-1 (an ID token from the local Cognito user pool)",
        f"TOKEN=$(curl -s -X POST {api_url}/_local/tokens -H 'Content-Type: application/json' "
        """-d '{"seller_id": "S-1"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["id_token"])')""",
        "# 2. Cancel an order that is not yet in the warehouse: cancelled at once (200)",
        f'curl -s {show} -X POST {api_url}/orders/{pending}/cancel -H "Authorization: $TOKEN"',
        "# 3. Request the cancellation of an order the warehouse already has: raised with the warehouse (202)",
        f'curl -s {show} -X POST {api_url}/orders/{in_warehouse}/cancellation-request -H "Authorization: $TOKEN" '
        """-H 'Content-Type: application/json' -d '{"reason_code": "CUSTOMER_REQUEST"}'""",
        "# 4. Cancel it again: in the warehouse, a request is pending (409, the problem says why)",
        f'curl -s {show} -X POST {api_url}/orders/{in_warehouse}/cancel -H "Authorization: $TOKEN"',
        "# 5. The warehouse, signing with SigV4 as IAM authorization requires, approves the request (200)",
        f"read AK SK < <(curl -s -X POST {api_url}/_local/warehouse-credentials | "
        "python3 -c 'import json, sys; c = json.load(sys.stdin); "
        """print(c["access_key_id"], c["secret_access_key"])')""",
        f'curl -s {show} --aws-sigv4 "aws:amz:{region}:execute-api" --user "$AK:$SK" -X POST '
        f"{api_url}/warehouse/orders/{in_warehouse}/cancellation-decision "
        """-H 'Content-Type: application/json' -d '{"decision": "APPROVED"}'""",
    ]


def _text(
    *,
    portal_url: str | None = None,
    api_url: str,
    aws_url: str,
    details: dict[str, str],
    order_id_for: Any,
    seeded: bool,
    parameters: dict[str, str] | None = None,
    schedules: list[Any] | None = None,
) -> str:
    lines = ["", *_where(portal_url, api_url, aws_url, details, parameters or {})]
    lines += _schedules(api_url, schedules or [], seeded)
    if seeded:
        lines += [
            "",
            f"# Demo orders of sellers {' and '.join(DEMO_SELLERS)}, the same for each (ids shown: "
            f"{DEMO_SELLERS[0]}'s):",
        ]
        lines += [
            f"#   {order.reference}  {order_id_for(DEMO_SELLERS[0], order.reference)}  {order.shows}"
            for order in DEMO_ORDERS
        ]
        lines += _courier(api_url, order_id_for)
        lines += ["", "# The help-centre article's story, to copy and paste into a shell:", ""]
        lines += story_commands(api_url, order_id_for, details["region"])
        lines += ["", *_what_s1_was_told(api_url)]
    lines += [
        "",
        "# Warehouse SigV4 credentials:",
        f"curl -s -X POST {api_url}/_local/warehouse-credentials",
        "# The table, as DynamoDB holds it (moto takes any credentials; this one needs the AWS CLI):",
        f"AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url {aws_url} "
        f"--region {details['region']} dynamodb scan --table-name {details['Table']}",
        "",
    ]
    return "\n".join(lines)


def _where(
    portal_url: str | None, api_url: str, aws_url: str, details: dict[str, str], parameters: dict[str, str]
) -> list[str]:
    """Where everything is, as comments: the URLs, the template's resources, the parameters in force."""
    lines = [
        "# orders-local: the order-cancellation stack of template.yaml on this machine (moto, no Docker, no AWS)",
        "#",
    ]
    if portal_url:
        lines.append(f"#   Portal    {portal_url}   (the seller portal: open it in a browser, sign in as S-1)")
    lines += [
        f"#   API       {api_url}   (the {details['stage']} stage, served at /)",
        f"#   AWS       {aws_url}   (moto's server: any credentials, region {details['region']})",
        f"#   OpenAPI   {api_url}/_local/openapi.json",
    ]
    lines += [f"#   {name:<9} {value}" for name, value in details.items() if name not in ("stage", "region")]
    if parameters:
        lines += ["#", "# Template parameters in force (override one with PARAM_<Name>=value make run):"]
        lines += [f"#   {name:<30} {value}" for name, value in parameters.items()]
    return lines


def _schedules(api_url: str, schedules: list[Any], seeded: bool) -> list[str]:
    """How to run each scheduled function now, and to watch the warehouse's queue escalate."""
    lines = []
    for schedule in schedules:
        lines += [
            "",
            f"# {schedule.function} runs every {schedule.rate_seconds} s ({schedule.expression}); run it now:",
            f"curl -s -X POST {api_url}/_local/schedules/{schedule.function}",
        ]
    if schedules and seeded:
        lines += [
            "# To watch a request escalate: PARAM_CancellationRequestSlaSeconds=5 make run, request a",
            "# cancellation (step 3 of the story below), wait five seconds, run the sweep above, then:",
            f"{orders_warehouse()} --api {api_url} queue --overdue",
        ]
    return lines


def _courier(api_url: str, order_id_for: Any) -> list[str]:
    """docs/api.md §12: the local carrier, and one courier event sent by hand."""
    from infra.local.carrier import carrier_seconds

    seconds = carrier_seconds()
    every = f"every {seconds:g} s" if seconds > 0 else "only when asked (LOCAL_CARRIER_SECONDS=0)"
    return [
        f"# Despatched orders move along at the courier {every}: POST /_local/carrier; one event by hand:",
        f"{orders_warehouse()} --api {api_url} track {order_id_for(DEMO_SELLERS[0], 'SHOP-1005')} OUT_FOR_DELIVERY "
        "--location 'Leeds Delivery Office'",
    ]


def _what_s1_was_told(api_url: str) -> list[str]:
    return [
        "# And S-1's own system receives each outcome on its webhook, signed (a receiver the stack runs):",
        f"curl -s '{api_url}/_local/webhook-deliveries?seller_id=S-1' | python3 -m json.tool",
        "# S-1's feed, as the portal shows it (with $TOKEN of step 1):",
        f'curl -s {api_url}/notifications -H "Authorization: $TOKEN" | python3 -m json.tool',
        "# What the topic carried for S-1:",
        f"curl -s '{api_url}/_local/notifications?seller_id=S-1' | python3 -m json.tool",
    ]


def orders_warehouse() -> str:
    """The warehouse's command line, as a path that works from any directory (it is in this venv)."""
    script = Path(sys.executable).with_name("orders-warehouse")
    return shlex.quote(str(script)) if script.exists() else f"{shlex.quote(sys.executable)} -m infra.ops.warehouse"
