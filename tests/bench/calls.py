"""DynamoDB requests per command, for every route and every refusal, counted at the client.

A process of its own (`python -S -m tests.bench.calls SPEC RESULT`) imports every API handler,
hooks `before-call.dynamodb` on the functions' own client, and sends each of the contract's 8
commands to an order in each of its 14 states, then the reads and creates, each through the real
handler with a REST event. moto's recorder counts the same requests on the server's side.
"""

from __future__ import annotations

import collections
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from infra.template import routes
from tests.bench.environment import (
    FUNCTIONS,
    SELLER,
    Aws,
    MotoServer,
    recorded,
    run_module,
    start_recording,
    stop_recording,
)
from tests.bench.report import table

MISSING_ORDER = "ord_" + "a" * 26


def _child(spec_path: str, result_path: str) -> None:
    from orders.settings import dynamodb
    from tests.support.api import NEW_ORDER
    from tests.support.commands import http_call, method_of
    from tests.support.contract import COMMANDS, CONTRACT, STATES
    from tests.support.events import LambdaContext, rest_event

    spec = json.loads(Path(spec_path).read_text())
    aws = Aws(spec["aws_url"])
    handlers = {}
    for route in routes():
        module, attribute = route.handler.rsplit(".", 1)
        handlers[route.method, route.path] = getattr(importlib.import_module(module), attribute)
    counted: list[str] = []
    dynamodb().meta.events.register("before-call.dynamodb", lambda model, **_: counted.append(model.name))

    rows: list[dict[str, Any]] = []

    def send(label: str, outcome_of: str, method: str, resource: str, **event: Any) -> dict[str, Any]:
        counted.clear()
        start_recording(spec["aws_url"])
        response = handlers[method, resource](rest_event(method, resource, **event), LambdaContext())
        server = recorded(spec["aws_url"])
        stop_recording(spec["aws_url"])
        body = json.loads(response["body"]) if response.get("body") else {}
        status = response["statusCode"]
        outcome = f"{status} {body['code']}" if isinstance(body, dict) and "code" in body else str(status)
        rows.append(
            {"command": label, "state": outcome_of, "outcome": outcome, "client": list(counted), "server": server}
        )
        return body

    for state in STATES:
        for command in COMMANDS:
            order = aws.order_in(state, f"CALLS-{state}-{command}")
            resource, body, caller = http_call(command)
            identity: dict[str, Any] = {"seller_id": SELLER} if caller == "seller" else {"warehouse": True}
            path = {"order_id": order["order_id"]}
            send(command, state, method_of(command), resource, path_parameters=path, body=body, **identity)
            answer = CONTRACT[state, command]
            got = rows[-1]["outcome"]
            expected = f"409 {answer.code}" if answer.code else str(answer.http_status)
            if got != expected:
                raise RuntimeError(f"{command} on {state}: {got}, the contract says {expected}")
            if answer.http_status != 409:
                rows[-1]["outcome"] += f" {answer.event}" if answer.changes else " unchanged"

    order = aws.order_in("PACKED/-", "CALLS-READ")
    path = {"order_id": order["order_id"]}
    send("create", "new reference", "POST", "/orders", body={"reference": "CALLS-NEW", **NEW_ORDER}, seller_id=SELLER)
    send(
        "create", "reference exists", "POST", "/orders", body={"reference": "CALLS-NEW", **NEW_ORDER}, seller_id=SELLER
    )
    send("create", "invalid body", "POST", "/orders", body={"reference": "CALLS-BAD"}, seller_id=SELLER)
    send("get", "own order", "GET", "/orders/{order_id}", path_parameters=path, seller_id=SELLER)
    send("get", "another seller's", "GET", "/orders/{order_id}", path_parameters=path, seller_id="S-OTHER")
    send(
        "get",
        "no such order",
        "GET",
        "/orders/{order_id}",
        path_parameters={"order_id": MISSING_ORDER},
        seller_id=SELLER,
    )
    send("get", "invalid id", "GET", "/orders/{order_id}", path_parameters={"order_id": "nope"}, seller_id=SELLER)
    for command in ("cancel", "approve"):
        resource, body, caller = http_call(command)
        identity = {"seller_id": "S-OTHER"} if caller == "seller" else {"warehouse": True}
        send(
            command,
            "no such order",
            "POST",
            resource,
            path_parameters={"order_id": MISSING_ORDER},
            body=body,
            **identity,
        )
    resource, body, _ = http_call("cancel")
    send("cancel", "another seller's", "POST", resource, path_parameters=path, body=body, seller_id="S-OTHER")
    pending = {"order_id": aws.order_in("PENDING/-", "CALLS-EDIT")["order_id"]}
    edit = {"courier_service": NEW_ORDER["courier_service"]}
    send("edit", "nothing differs", "PATCH", "/orders/{order_id}", path_parameters=pending, body=edit, seller_id=SELLER)
    stale = {"If-Match": '"7"'}
    moved = {"courier_service": "DPD_NEXT_DAY"}
    send(
        "edit",
        "stale If-Match",
        "PATCH",
        "/orders/{order_id}",
        path_parameters=pending,
        body=moved,
        seller_id=SELLER,
        headers=stale,
    )
    for number in range(30):
        aws.order_in("PENDING/-", f"CALLS-LIST-{number}", seller_id="S-LIST")
    send("list", "page of 25 (30 orders)", "GET", "/orders", seller_id="S-LIST")
    send("list", "?limit=100 (30 orders)", "GET", "/orders", query={"limit": "100"}, seller_id="S-LIST")
    send("list", "?status=CANCELLED (none of 30)", "GET", "/orders", query={"status": "CANCELLED"}, seller_id="S-LIST")

    # The warehouse's reads and the escalation sweep (docs/api.md §6)
    send(
        "warehouse get",
        "any seller's order",
        "GET",
        "/warehouse/orders/{order_id}",
        path_parameters=path,
        warehouse=True,
    )
    queue = "/warehouse/cancellation-requests"
    send("queue", "page of 25", "GET", queue, warehouse=True)
    first = send("queue", "?limit=2", "GET", queue, query={"limit": "2"}, warehouse=True)
    send("queue", "next page", "GET", queue, query={"limit": "2", "next_token": first["next_token"]}, warehouse=True)
    send("queue", "?overdue=true", "GET", queue, query={"overdue": "true"}, warehouse=True)
    send("queue", "?overdue=false&limit=100", "GET", queue, query={"overdue": "false", "limit": "100"}, warehouse=True)
    _bulk(aws, send)
    _tracking(aws, send)
    rows.extend(_sweeps(aws, counted))
    rows.extend(_channels_and_deliveries(spec, aws, send, counted))
    Path(result_path).write_text(json.dumps(rows))


def _tracking(aws: Any, send: Any) -> None:
    """docs/api.md §12: a batch of 50 courier events in, the same batch again, a late one; the seller's reads."""
    order = aws.order_in("DESPATCHED/-", "CALLS-TRACK")
    path = {"order_id": order["order_id"]}
    resource = "/warehouse/orders/{order_id}/tracking-events"
    batch = [
        {
            "event_id": f"E{n:02d}",
            "status": "IN_TRANSIT",
            "occurred_at": f"2026-11-26T10:{n:02d}:00Z",
            "location": "Hub",
        }
        for n in range(50)
    ]
    late = [{"event_id": "LATE", "status": "INFO_RECEIVED", "occurred_at": "2026-11-26T09:00:00Z"}]
    send(
        "tracking events",
        "batch of 50, status moves",
        "POST",
        resource,
        path_parameters=path,
        body={"events": batch},
        warehouse=True,
    )
    send(
        "tracking events",
        "the same batch again",
        "POST",
        resource,
        path_parameters=path,
        body={"events": batch},
        warehouse=True,
    )
    send(
        "tracking events",
        "a late older event",
        "POST",
        resource,
        path_parameters=path,
        body={"events": late},
        warehouse=True,
    )
    not_despatched = {"order_id": aws.order_in("PACKED/-", "CALLS-TRACK-PACKED")["order_id"]}
    send(
        "tracking events",
        "not despatched",
        "POST",
        resource,
        path_parameters=not_despatched,
        body={"events": late},
        warehouse=True,
    )
    send("tracking", "own order", "GET", "/orders/{order_id}/tracking", path_parameters=path, seller_id=SELLER)
    send(
        "tracking", "another seller's", "GET", "/orders/{order_id}/tracking", path_parameters=path, seller_id="S-OTHER"
    )
    send("courier services", "the catalogue", "GET", "/courier-services", seller_id=SELLER)


def _channels_and_deliveries(spec: dict[str, Any], aws: Any, send: Any, counted: list[str]) -> list[dict[str, Any]]:
    """The channel routes, the feed, and one event delivered to two channels: first try, then redelivered."""
    import http.server
    import threading

    from orders.domain import Action, Event, Seller
    from orders.handlers import deliver_notifications
    from tests.support.events import LambdaContext
    from tests.support.notifications import expected_delivery

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    seller = "S-CHANNELS"
    import os

    from orders import settings

    os.environ["TOPIC_ARN"] = spec["topic_arn"]  # this process has CancelOrderFunction's environment
    settings.settings.cache_clear()
    made = [
        send("channels", f"create ({n} of 5)", "POST", "/notification-channels", body={"url": url}, seller_id=seller)
        for n in range(1, 6)
    ]
    send("channels", "create a sixth", "POST", "/notification-channels", body={"url": url}, seller_id=seller)
    send("channels", "list (5)", "GET", "/notification-channels", seller_id=seller)
    channel = {"channel_id": made[0]["channel_id"]}
    send(
        "channels",
        "test",
        "POST",
        "/notification-channels/{channel_id}/test",
        path_parameters=channel,
        seller_id=seller,
    )
    send(
        "channels",
        "another seller's",
        "DELETE",
        "/notification-channels/{channel_id}",
        path_parameters=channel,
        seller_id="S-OTHER",
    )

    order = aws.order_in("PENDING/-", "CALLS-DELIVERY", seller_id=seller)
    cancelled = aws.store.apply(order["order_id"], Action.CANCEL, Seller(seller)).order
    body = expected_delivery(cancelled, Event.ORDER_CANCELLED).body
    record = {
        "messageId": "calls-delivery",
        "receiptHandle": "calls",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {"seller_id": {"stringValue": seller, "dataType": "String"}},
        "eventSource": "aws:sqs",
    }
    rows = []
    for label in ("5 channels, first try", "5 channels, redelivered"):
        counted.clear()
        start_recording(spec["aws_url"])
        result = deliver_notifications.handler({"Records": [record]}, LambdaContext(function_name="DeliveryFunction"))
        server_side = recorded(spec["aws_url"])
        stop_recording(spec["aws_url"])
        outcome = "done" if not result["batchItemFailures"] else "failed"
        rows.append(
            {"command": "delivery", "state": label, "outcome": outcome, "client": list(counted), "server": server_side}
        )
    server.shutdown()
    send("feed", "page of 25", "GET", "/notifications", seller_id=seller)
    send(
        "channels", "delete", "DELETE", "/notification-channels/{channel_id}", path_parameters=channel, seller_id=seller
    )
    return rows


def _bulk(aws: Any, send: Any) -> None:
    """docs/api.md §13: ceil(n/100) BatchGetItem, then one UpdateItem per order that needs a change."""
    mixed = [
        aws.order_in(state, f"CALLS-BULK-{number}")["order_id"]
        for number, state in enumerate(["PENDING/-"] * 60 + ["DESPATCHED/-"] * 20 + ["CANCELLED/-"] * 19)
    ]
    ids = [*mixed, MISSING_ORDER]
    bulk = "/bulk-cancellations"
    send("bulk", "100 ids, dry run", "POST", bulk, body={"order_ids": ids, "dry_run": True}, seller_id=SELLER)
    send(
        "bulk",
        "100 ids: 60 pending, 39 refused or unchanged, 1 absent",
        "POST",
        bulk,
        body={"order_ids": ids},
        seller_id=SELLER,
    )
    send("bulk", "the same again (all unchanged)", "POST", bulk, body={"order_ids": ids}, seller_id=SELLER)
    send("bulk", "101 ids", "POST", bulk, body={"order_ids": [*ids, "ord_" + "b" * 26]}, seller_id=SELLER)
    requested = [aws.order_in("PICKED/REQUESTED", f"CALLS-DECIDE-{number}")["order_id"] for number in range(10)]
    decisions = [{"order_id": order_id, "decision": "APPROVED"} for order_id in requested]
    resource = "/warehouse/cancellation-decisions"
    send("bulk decisions", "10 requests approved", "POST", resource, body={"decisions": decisions}, warehouse=True)


def _sweeps(aws: Any, counted: list[str]) -> list[dict[str, Any]]:
    """The sweep over 10 and over 1,000 overdue requests: its requests, and how long it took."""
    import os
    import time

    from orders import settings
    from orders.domain import Action, Seller
    from orders.handlers import escalate_overdue
    from tests.support.events import LambdaContext
    from tests.support.queue import copies

    swept = []
    for overdue in (10, 1000):
        os.environ["CANCELLATION_REQUEST_SLA_SECONDS"] = "1"
        settings.settings.cache_clear()
        order = aws.order_in("PACKED/-", f"CALLS-SWEEP-{overdue}")
        aws.store.apply(order["order_id"], Action.REQUEST_CANCELLATION, Seller(SELLER))
        copies(aws.store, order["order_id"], overdue - 1)
        time.sleep(1.1)
        counted.clear()
        started = time.perf_counter()
        result = escalate_overdue.handler(
            {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
            LambdaContext(function_name="EscalationFunction", timeout_seconds=60),
        )
        elapsed = time.perf_counter() - started
        if result["escalated"] != overdue or not result["complete"]:
            raise RuntimeError(f"the sweep over {overdue} overdue requests did {result}")
        swept.append(
            {
                "command": "sweep",
                "state": f"{overdue} overdue",
                "outcome": f"{overdue} escalated in {elapsed:.1f} s",
                "client": list(counted),
                "server": list(counted),  # not recorded: a thousand writes would swamp the recording
                "seconds": elapsed,
            }
        )
    return swept


def measure(code: Path = FUNCTIONS) -> tuple[str, dict[str, Any]]:
    with MotoServer() as moto:
        aws = Aws(moto.url).create()
        rows = run_module("tests.bench.calls", code, "CancelOrderFunction", moto.url, aws.topic_arn, {})

    grouped: dict[tuple[str, str, str, str], list[str]] = collections.defaultdict(list)
    for row in rows:
        client = collections.Counter(row["client"])
        server = collections.Counter(name for name in row["server"] if name != "Publish")  # SNS, not DynamoDB
        requests = " + ".join(f"{count} {name}" if count > 1 else name for name, count in client.items()) or "none"
        if "Publish" in row["server"]:
            requests += ", and one SNS Publish"
        agreed = "yes" if client == server else f"no: server saw {dict(server)}"
        grouped[row["command"], row["outcome"], f"{len(row['client'])} ({requests})", agreed].append(row["state"])
    from tests.support.contract import COMMANDS

    order = [
        *COMMANDS,
        *("create", "get", "list", "warehouse get", "queue", "bulk", "bulk decisions", "tracking events", "tracking"),
        *("courier services", "sweep", "channels", "feed", "delivery"),
    ]
    lines = []
    for (command, outcome, requests, agreed), states in sorted(
        grouped.items(), key=lambda entry: (order.index(entry[0][0]), entry[0][1])
    ):
        shown = ", ".join(states) if len(states) <= 3 else f"{len(states)} states"
        lines.append([command, outcome, shown, requests, agreed])
    commands = [row for row in rows if row["command"] in COMMANDS]
    most = max(len(row["client"]) for row in commands)
    two = sorted({row["state"] for row in commands if len(row["client"]) == 2})
    notes = [
        f"{len(commands)} command cells: "
        f"{sum(len(row['client']) == 1 for row in commands)} make one request, "
        f"{sum(len(row['client']) == 2 for row in commands)} make two ({', '.join(two) or 'none'}), "
        f"none more than {most}.",
        "Counted at the client (botocore `before-call.dynamodb` on the functions' own client) and, "
        "independently, by moto's recorder (but for the sweeps: counted at the client only).",
        "sweep: one COUNT Query for the metric OverdueCancellationRequests, one Query per page of 100 of the "
        "escalation-due index, one UpdateItem per escalation; timed on this machine's moto server.",
    ]
    figures = {"rows": rows}
    return table(
        "DynamoDB requests per command",
        ["command", "outcome", "order state(s)", "requests", "server agrees"],
        lines,
        notes,
    ), figures


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
