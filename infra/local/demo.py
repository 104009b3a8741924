"""Demo sellers with orders in every state, made over HTTP through the real API, and the banner.

The orders are created and moved exactly as the portal and the warehouse would (ID tokens,
SigV4), so their history and notifications are the real ones. Order ids derive from the
seller and reference, so the banner can name them before anything is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from infra.local.callers import Portal, Warehouse, session

DEMO_SELLERS = ("S-1", "S-2")
REGION = "eu-west-2"
STATUS_LINE = "\\n-> HTTP "  # what the banner's curl commands print before each status code


@dataclass(frozen=True)
class Step:
    by: str  # "seller" or "warehouse"
    action: str  # the path after /orders/{order_id} (seller) or /warehouse/orders/{order_id} (warehouse)
    body: dict[str, Any] | None = None


def _moves(*statuses: str) -> list[Step]:
    return [Step("warehouse", "/status", {"status": status}) for status in statuses]


@dataclass(frozen=True)
class DemoOrder:
    reference: str
    shows: str  # what the order demonstrates, for the banner
    steps: list[Step] = field(default_factory=list)


DEMO_ORDERS = (
    DemoOrder("SHOP-1001", "PENDING: cancel at once"),
    DemoOrder("SHOP-1002", "SENT_TO_WAREHOUSE: request a cancellation", _moves("SENT_TO_WAREHOUSE")),
    DemoOrder("SHOP-1003", "PICKED: request a cancellation", _moves("SENT_TO_WAREHOUSE", "PICKED")),
    DemoOrder("SHOP-1004", "PACKED: request a cancellation", _moves("SENT_TO_WAREHOUSE", "PACKED")),
    DemoOrder(
        "SHOP-1005",
        "DESPATCHED: cannot be cancelled",
        [
            *_moves("SENT_TO_WAREHOUSE", "PICKED", "PACKED"),
            Step("warehouse", "/status", {"status": "DESPATCHED", "tracking_number": "TRK-1005"}),
        ],
    ),
    DemoOrder("SHOP-1006", "CANCELLED by the seller", [Step("seller", "/cancel")]),
    DemoOrder(
        "SHOP-1007",
        "PICKED, cancellation REQUESTED: the warehouse decides",
        [
            *_moves("SENT_TO_WAREHOUSE", "PICKED"),
            Step("seller", "/cancellation-request", {"reason_code": "CUSTOMER_REQUEST", "note": "Ordered twice"}),
        ],
    ),
    DemoOrder(
        "SHOP-1008",
        "PACKED, cancellation REJECTED",
        [
            *_moves("SENT_TO_WAREHOUSE", "PACKED"),
            Step("seller", "/cancellation-request", {"reason_code": "ADDRESS_ERROR"}),
            Step("warehouse", "/cancellation-decision", {"decision": "REJECTED", "reason_code": "ALREADY_PACKED"}),
        ],
    ),
    DemoOrder(
        "SHOP-1009",
        "CANCELLED by the warehouse (request APPROVED)",
        [
            *_moves("SENT_TO_WAREHOUSE"),
            Step("seller", "/cancellation-request", {"reason_code": "DUPLICATE_ORDER"}),
            Step("warehouse", "/cancellation-decision", {"decision": "APPROVED"}),
        ],
    ),
)


def new_order(reference: str, seller_id: str) -> dict[str, Any]:
    return {
        "reference": reference,
        "items": [{"sku": "TSHIRT-RED-M", "quantity": 2}, {"sku": "MUG-WHITE", "quantity": 1}],
        "recipient": {
            "name": f"Customer of {seller_id}",
            "address_line1": "1 High Street",
            "city": "Leeds",
            "postcode": "LS1 1AA",
            "country": "GB",
        },
        "courier_service": "ROYAL_MAIL_48",
    }


def seed(api_url: str, order_id_for: Any, receiver: Any = None) -> None:
    """Every demo seller's webhook channel (on `receiver`) and orders, through the API; fails loudly if the
    API refuses a step."""
    http = session()
    warehouse = Warehouse(api_url, http=http)
    for seller_id in DEMO_SELLERS:
        portal = Portal(api_url, seller_id, http=http)
        if receiver is not None:
            path = f"/{seller_id}"
            answer = portal.request(
                "POST",
                "/notification-channels",
                {"url": receiver.url(path), "description": f"{seller_id}'s own system (the stack's receiver)"},
            )
            _expect(answer)
            receiver.secrets[path] = answer.json()["secret"]
        for order in DEMO_ORDERS:
            _expect(portal.request("POST", "/orders", new_order(order.reference, seller_id)))
            order_id = order_id_for(seller_id, order.reference)
            for step in order.steps:
                if step.by == "seller":
                    answer = portal.request("POST", f"/orders/{order_id}{step.action}", step.body)
                else:
                    answer = warehouse.post(f"/warehouse/orders/{order_id}{step.action}", step.body)
                _expect(answer)


def _expect(answer: requests.Response) -> None:
    if answer.status_code >= 300:
        raise RuntimeError(
            f"seeding the demo: {answer.request.method} {answer.url} -> {answer.status_code} {answer.text}"
        )


# -- the banner ------------------------------------------------------------------------------


def story_commands(api_url: str, order_id_for: Any) -> list[str]:
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
        f'curl -s {show} --aws-sigv4 "aws:amz:{REGION}:execute-api" --user "$AK:$SK" -X POST '
        f"{api_url}/warehouse/orders/{in_warehouse}/cancellation-decision "
        """-H 'Content-Type: application/json' -d '{"decision": "APPROVED"}'""",
    ]


def banner(
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
        lines += story_commands(api_url, order_id_for)
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
