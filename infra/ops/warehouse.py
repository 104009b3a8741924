"""`orders-warehouse`: the warehouse Ops team's tool for the cancellation queue (docs/api.md §6).

    orders-warehouse queue [--overdue]            pending requests, most urgent first
    orders-warehouse show ID                      one order, its request and its history
    orders-warehouse approve ID [--note TEXT]
    orders-warehouse reject ID --reason CODE [--note TEXT]
    orders-warehouse status ID STATUS [--tracking NUMBER]

Every call is signed with SigV4 (service execute-api) by botocore, with credentials from the
standard AWS chain (environment, profile, SSO, instance role). Pointed at the local stack (the
default, http://127.0.0.1:3000), it asks the stack for its warehouse credentials instead.
A refusal prints the problem's title and detail and exits 1; a bad argument exits 2.
Standard library only beside botocore: argparse gives every command its --help.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.session import get_session

DEFAULT_API = "http://127.0.0.1:3000"
TIMEOUT_SECONDS = 15
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DECISION_REASONS = ("ALREADY_PACKED", "IN_COURIER_COLLECTION", "ORDER_DESPATCHED", "OTHER")
STATUSES = ("SENT_TO_WAREHOUSE", "PICKED", "PACKED", "DESPATCHED")
_EXECUTE_API_HOST = re.compile(r"[a-z0-9]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")


class Refused(Exception):
    """The API answered with a problem (or could not be reached): what to tell the person."""


class Api:
    """The warehouse routes of one API, each call signed."""

    def __init__(self, base_url: str, region: str | None = None):
        self.base_url = base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"--api {base_url!r} is not an http(s) URL")
        if parts.hostname in LOCAL_HOSTS:
            issued = self._send("POST", "/_local/warehouse-credentials", None, sign=False)
            self.credentials = Credentials(issued["access_key_id"], issued["secret_access_key"])
            self.region = region or issued["region"]
            return
        session = get_session()
        credentials = session.get_credentials()
        if credentials is None:
            raise Refused("no AWS credentials found (environment, ~/.aws, SSO or an instance role)")
        self.credentials = credentials
        host_region = _EXECUTE_API_HOST.fullmatch(parts.hostname)
        self.region = (
            region or (host_region["region"] if host_region else None) or session.get_config_variable("region")
        )
        if not self.region:
            raise Refused("no region: pass --region or set AWS_REGION")

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        return self._send("GET", path + ("?" + urllib.parse.urlencode(query) if query else ""), None)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._send("POST", path, body)

    def _send(self, method: str, path: str, body: dict[str, Any] | None, *, sign: bool = True) -> Any:
        url = self.base_url + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if data else {})}
        if sign:
            signed = AWSRequest(method=method, url=url, data=data or b"", headers=headers)
            SigV4Auth(self.credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(signed)
            headers = dict(signed.headers)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with _opener().open(request, timeout=TIMEOUT_SECONDS) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            raise Refused(_problem_text(error.code, error.read())) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise Refused(f"cannot reach {self.base_url}: {reason} (is `make run` running?)") from None


def _opener() -> urllib.request.OpenerDirector:
    """No proxy for the API (the local stack is on loopback), no redirects followed."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _problem_text(status: int, raw: bytes) -> str:
    """A problem document as "Title: detail" (with each field error), or what else the gateway said."""
    try:
        problem = json.loads(raw)
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        return f"HTTP {status}: {raw[:200].decode('utf-8', 'replace') or 'no body'}"
    if "title" not in problem:  # API Gateway's own answers: {"message": "..."}
        return f"HTTP {status}: {problem.get('message') or problem}"
    text = f"{problem['title']} (HTTP {status}): {problem.get('detail', '')}"
    for error in problem.get("errors") or []:
        text += f"\n  {error.get('field')}: {error.get('message')}"
    return text


# -- what people read ------------------------------------------------------------------------


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def duration(seconds: float) -> str:
    """12s, 4m, 2h 05m, 3d 04h: coarse enough to read at a glance."""
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes}m"
    if days == 0:
        return f"{hours}h {minutes % 60:02d}m"
    return f"{days}d {hours % 24:02d}h"


def due_text(due_at: str | None, now: datetime) -> str:
    due = _parse_time(due_at)
    if due is None:
        return "-"
    left = (due - now).total_seconds()
    return f"in {duration(left)}" if left > 0 else f"overdue {duration(left)}"


def queue_table(orders: list[dict[str, Any]], now: datetime) -> str:
    """The queue as a table: one line a request, in the API's order (most urgent first)."""
    if not orders:
        return "No pending cancellation requests."
    header = ("ORDER", "AGE", "DUE", "SELLER", "REFERENCE", "STATUS", "REASON", "ESCALATED")
    rows = [header]
    for order in orders:
        request = order["cancellation"]["request"] or {}
        requested = _parse_time(request.get("requested_at"))
        rows.append(
            (
                order["order_id"],
                duration((now - requested).total_seconds()) if requested else "-",
                due_text(request.get("due_at"), now),
                order["seller_id"],
                order["reference"],
                order["status"],
                request.get("reason_code") or "-",
                "yes" if request.get("escalated_at") else "no",
            )
        )
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def order_text(order: dict[str, Any], now: datetime) -> str:
    """One order: who, what, where it is, its request and its history."""
    request = order["cancellation"]["request"]
    lines = [
        f"{order['order_id']}  {order['reference']}  seller {order['seller_id']}  version {order['version']}",
        f"  status        {order['status']}"
        + (f"  tracking {order['tracking_number']}" if order["tracking_number"] else ""),
        f"  recipient     {order['recipient']['name']}, {order['recipient']['city']} {order['recipient']['postcode']}",
        "  items         " + ", ".join(f"{item['quantity']} x {item['sku']}" for item in order["items"]),
        f"  courier       {order['courier_service']}",
    ]
    if request:
        lines.append(
            f"  request       {request['status']}  reason {request.get('reason_code') or '-'}"
            f"  requested {request['requested_at']}  due {due_text(request.get('due_at'), now)}"
            + (f"  escalated {request['escalated_at']}" if request.get("escalated_at") else "")
        )
        if request.get("note"):
            lines.append(f"  seller's note {request['note']}")
        if request.get("decided_at"):
            lines.append(
                f"  decision      {request.get('decision_reason_code') or '-'} at {request['decided_at']}"
                + (f"  note {request['decision_note']}" if request.get("decision_note") else "")
            )
    lines.append("  history")
    for entry in order["history"]:
        moved = (
            f"{entry['from_status']} -> {entry['to_status']}"
            if entry["from_status"] != entry["to_status"]
            else entry["to_status"]
        )
        lines.append(f"    {entry['at']}  {entry['event']:<28} {moved:<32} by {entry['by']}")
    return "\n".join(lines)


def outcome_line(order: dict[str, Any]) -> str:
    request = order["cancellation"]["request"]
    said = f", request {request['status']}" if request else ""
    return f"{order['order_id']} {order['reference']} (seller {order['seller_id']}): {order['status']}{said}"


# -- the commands ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--api",
        default=argparse.SUPPRESS,
        help=f"the orders API's base URL, stage included (default $ORDERS_API_URL or {DEFAULT_API}, the local stack)",
    )
    common.add_argument(
        "--region", default=argparse.SUPPRESS, help="the API's region (default: from the URL or AWS_REGION)"
    )
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON answer")
    parser = argparse.ArgumentParser(
        prog="orders-warehouse",
        description="The warehouse's cancellation queue: see it, read an order, decide a request, move an order.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    queue = commands.add_parser("queue", parents=[common], help="pending cancellation requests, most urgent first")
    queue.add_argument("--overdue", action="store_true", help="only requests past their due time")
    queue.add_argument(
        "--limit", type=int, default=25, choices=range(1, 101), metavar="1-100", help="requests per page"
    )
    queue.add_argument("--next-token", help="the page after the one that printed it")
    show = commands.add_parser("show", parents=[common], help="one order, with its request and history")
    show.add_argument("order_id", metavar="ID")
    approve = commands.add_parser(
        "approve", parents=[common], help="approve a cancellation request: the order is cancelled"
    )
    approve.add_argument("order_id", metavar="ID")
    approve.add_argument("--note", help="free text for the seller, at most 500 characters")
    reject = commands.add_parser("reject", parents=[common], help="reject a cancellation request")
    reject.add_argument("order_id", metavar="ID")
    reject.add_argument("--reason", required=True, choices=DECISION_REASONS, help="why it cannot be cancelled")
    reject.add_argument("--note", help="free text for the seller, at most 500 characters")
    status = commands.add_parser("status", parents=[common], help="move an order forward in the warehouse")
    status.add_argument("order_id", metavar="ID")
    status.add_argument("status", choices=STATUSES, metavar="STATUS", help=" | ".join(STATUSES))
    status.add_argument("--tracking", help="the courier's tracking number (with DESPATCHED)")
    return parser


def run(arguments: argparse.Namespace, now: datetime) -> str:
    api = Api(
        getattr(arguments, "api", None) or os.environ.get("ORDERS_API_URL") or DEFAULT_API,
        getattr(arguments, "region", None),
    )
    as_json = getattr(arguments, "json", False)
    order_path = f"/warehouse/orders/{urllib.parse.quote(getattr(arguments, 'order_id', ''), safe='')}"
    if arguments.command == "queue":
        query = {"limit": str(arguments.limit)}
        if arguments.overdue:
            query["overdue"] = "true"
        if arguments.next_token:
            query["next_token"] = arguments.next_token
        page = api.get("/warehouse/cancellation-requests", query)
        if as_json:
            return json.dumps(page, indent=2)
        text = queue_table(page["requests"], now)
        if page["next_token"]:
            overdue = " --overdue" if arguments.overdue else ""
            text += f"\nMore: orders-warehouse queue{overdue} --next-token {page['next_token']}"
        return text
    if arguments.command == "show":
        order = api.get(order_path)
        return json.dumps(order, indent=2) if as_json else order_text(order, now)
    if arguments.command == "status":
        body = {"status": arguments.status, **({"tracking_number": arguments.tracking} if arguments.tracking else {})}
        order = api.post(f"{order_path}/status", body)
    else:
        body = {"decision": "APPROVED" if arguments.command == "approve" else "REJECTED"}
        if arguments.command == "reject":
            body["reason_code"] = arguments.reason
        if arguments.note is not None:
            body["note"] = arguments.note
        order = api.post(f"{order_path}/cancellation-decision", body)
    return json.dumps(order, indent=2) if as_json else outcome_line(order)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        print(run(arguments, datetime.now(UTC)))
    except Refused as refused:
        print(f"orders-warehouse: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
