"""What `make run` prints once the stack is up: where everything is, and commands to paste.

The URLs, the template's resources and the parameters in force, the demo orders (their ids
derive from seller and reference, see demo.py), and the help-centre article's story as shell
lines that work exactly as printed (tests/e2e/test_make_run.py runs them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra import template
from infra.local.demo import DEMO_ORDERS, DEMO_SELLERS

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

STATUS_LINE = "\\n-> HTTP "  # what the banner's curl commands print before each status code


def banner(stack: LocalStack, *, overridden_by: str) -> str:
    """The banner of a started stack; a parameter's override is shown as its variable (`overridden_by` + name)."""
    from orders.stored import order_id_for

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
    lines = [
        "",
        "orders-local: the order-cancellation stack of template.yaml on this machine (moto, no Docker, no AWS)",
        "",
        *(
            [f"  Portal    {portal_url}   (the seller portal: open it in a browser, sign in as S-1)"]
            if portal_url
            else []
        ),
        f"  API       {api_url}   (the {details['stage']} stage, served at /)",
        f"  AWS       {aws_url}   (aws --endpoint-url {aws_url} --region {details['region']} ...)",
        f"  OpenAPI   {api_url}/_local/openapi.json",
    ]
    lines += [f"  {name:<9} {value}" for name, value in details.items() if name not in ("stage", "region")]
    if parameters:
        lines += ["", "Template parameters in force (override one with PARAM_<Name>=value make run):"]
        lines += [f"  {name:<30} {value}" for name, value in parameters.items()]
    for schedule in schedules or []:
        lines += [
            "",
            f"{schedule.function} runs every {schedule.rate_seconds} s ({schedule.expression}); run it now:",
            f"  curl -s -X POST {api_url}/_local/schedules/{schedule.function}",
        ]
    if schedules and seeded:
        lines += [
            "To watch a request escalate: PARAM_CancellationRequestSlaSeconds=5 make run, request a",
            "cancellation (step 3 below), wait five seconds, run the sweep as above, then:",
            "  orders-warehouse queue --overdue        (.venv/bin/orders-warehouse outside the venv)",
        ]
    if seeded:
        lines += [
            "",
            f"Demo orders of sellers {' and '.join(DEMO_SELLERS)}, the same for each (ids shown: {DEMO_SELLERS[0]}'s):",
        ]
        lines += [
            f"  {order.reference}  {order_id_for(DEMO_SELLERS[0], order.reference)}  {order.shows}"
            for order in DEMO_ORDERS
        ]
        lines += ["", "The help-centre article's story, to copy and paste into a shell:", ""]
        lines += story_commands(api_url, order_id_for, details["region"])
    lines += [
        "",
        "And S-1's own system receives each outcome on its webhook, signed (a receiver the stack runs):",
        f"  curl -s '{api_url}/_local/webhook-deliveries?seller_id=S-1' | python3 -m json.tool",
        f"S-1's feed, as the portal shows it: GET {api_url}/notifications with S-1's token",
        f"What the topic carried for S-1:  curl -s '{api_url}/_local/notifications?seller_id=S-1' | "
        f"python3 -m json.tool",
        f"Warehouse SigV4 credentials:    curl -s -X POST {api_url}/_local/warehouse-credentials",
        f"The table, as DynamoDB holds it (moto takes any credentials): AWS_ACCESS_KEY_ID=testing "
        f"AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url {aws_url} --region {details['region']} "
        f"dynamodb scan --table-name {details['Table']}",
        "",
    ]
    return "\n".join(lines)
