"""`orders-warehouse`: the warehouse Ops team's tool for the cancellation queue (docs/api.md §6).

    orders-warehouse queue [--overdue]            pending requests, most urgent first
    orders-warehouse show ID                      one order, its request and its history
    orders-warehouse approve ID [ID...] [--note TEXT]
    orders-warehouse reject ID [ID...] --reason CODE [--note TEXT]
    orders-warehouse status ID STATUS [--tracking NUMBER]
    orders-warehouse status ID ON_BACKORDER --line 2:MUG-WHITE:1 [--line ...] [--expected DATE]
    orders-warehouse status ID PENDING                   (stock arrived: the backorder ends)

Every call is signed with SigV4 (service execute-api) by botocore, with credentials from the
standard AWS chain (environment, profile, SSO, instance role). Pointed at a local stack (`--api`,
else $ORDERS_API_URL, else `make run`'s default http://127.0.0.1:3000; the banner of `make run`
prints the command with its own `--api`), it asks the stack for its warehouse credentials instead.

What it prints for people is safe on a terminal: every text that comes from the API (a seller's
note, a reference, a name, a SKU ...) shows its control, format (bidi included) and line-separator
characters as escapes (`\\n`, `\\x1b`, `\\u202e`), so no field can move the cursor, recolour the
screen or forge a line. `--json` prints JSON, which escapes them itself.

`approve` and `reject` send one POST /warehouse/cancellation-decisions for all their ids (at most 100,
docs/api.md §13) and print one line per order, in order: what was done on standard output, each
refusal on standard error. A refusal prints the problem's title and detail and exits 1; a bad argument
exits 2; output cut short by its reader (`| head`) ends quietly with 141, as a Unix tool killed by SIGPIPE does.
Standard library only beside botocore: argparse gives every command its --help.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import sys
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
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
STATUSES = ("ON_BACKORDER", "PENDING", "SENT_TO_WAREHOUSE", "PICKED", "PACKED", "DESPATCHED")
# docs/api.md §12's courier statuses (orders.couriers.CourierStatus; tests/unit/test_warehouse_cli.py holds them equal).
COURIER_STATUSES = (
    "INFO_RECEIVED",
    "IN_TRANSIT",
    "OUT_FOR_DELIVERY",
    "ATTEMPTED_DELIVERY",
    "AVAILABLE_FOR_PICKUP",
    "DELIVERED",
    "EXCEPTION",
    "RETURNING_TO_SENDER",
    "RETURNED_TO_SENDER",
)
_EXECUTE_API_HOST = re.compile(r"[a-z0-9]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")
# Unicode categories shown escaped: controls, formats (the bidi controls among them), surrogates, line
# and paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class Refused(Exception):
    """The API answered with a problem (or could not be reached): what to tell the person.

    `done`: what was done before (a bulk decision's orders that went through), printed first.
    """

    def __init__(self, message: str, done: str = ""):
        super().__init__(message)
        self.done = done


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
            raise Refused(
                f"cannot reach {self.base_url}: {reason} (is `make run` running? On another port, pass "
                "--api http://127.0.0.1:<PORT>, as its banner prints)"
            ) from None


def _opener() -> urllib.request.OpenerDirector:
    """No proxy for the API (the local stack is on loopback), no redirects followed."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _problem_text(status: int, raw: bytes) -> str:
    """A problem document as "Title: detail" (with each field error the detail does not already
    name), or what else the gateway said; shown escaped, as everything from the API."""
    try:
        problem = json.loads(raw)
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        return f"HTTP {status}: {terminal_safe(raw[:200].decode('utf-8', 'replace')) or 'no body'}"
    problem = shown(problem)
    if "title" not in problem:  # API Gateway's own answers: {"message": "..."}
        return f"HTTP {status}: {problem.get('message') or problem}"
    detail = str(problem.get("detail", ""))
    text = f"{problem['title']} (HTTP {status}): {detail}"
    for error in problem.get("errors") or []:
        said = f"{error.get('field')}: {error.get('message')}"
        if said not in detail:
            text += f"\n  {said}"
    return text


# -- what people read ------------------------------------------------------------------------


def terminal_safe(text: str) -> str:
    """`text` with its control, format (bidi included) and separator characters as escapes: \\n, \\x1b, \\u202e."""
    return "".join(
        character.encode("unicode_escape").decode("ascii")
        if unicodedata.category(character) in _ESCAPED_CATEGORIES
        else character
        for character in text
    )


def shown(document: Any) -> Any:
    """An API document with every string in it (keys too) made terminal-safe, the rest as it is."""
    if isinstance(document, str):
        return terminal_safe(document)
    if isinstance(document, dict):
        return {shown(key): shown(value) for key, value in document.items()}
    if isinstance(document, list):
        return [shown(item) for item in document]
    return document


def _parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:  # not a time: shown as "-" rather than stopping the table
        return None


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
    orders = shown(orders)
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
    order = shown(order)
    request = order["cancellation"]["request"]
    lines = [
        f"{order['order_id']}  {order['reference']}  seller {order['seller_id']}  version {order['version']}",
        f"  status        {order['status']}"
        + (f"  tracking {order['tracking_number']}" if order["tracking_number"] else ""),
        f"  recipient     {order['recipient']['name']}, {order['recipient']['city']} {order['recipient']['postcode']}",
        "  items         " + ", ".join(f"{item['quantity']} x {item['sku']}" for item in order["items"]),
        f"  courier       {order['courier_service']}",
    ]
    courier = order.get("courier_status")
    if courier:
        lines.append(
            f"  at courier    {courier['status']} at {courier['occurred_at']}"
            + (f", {courier['location']}" if courier.get("location") else "")
        )
    backorder = order.get("backorder")
    if backorder:
        short = ", ".join(f"line {line['line']}: {line['quantity']} x {line['sku']}" for line in backorder["items"])
        lines.append(f"  backorder     {short}  expected {backorder.get('expected_at') or 'not known'}")
    if order.get("split_from") or order.get("split_into"):
        into = ", ".join(order.get("split_into") or []) or "-"
        lines.append(f"  split         from {order.get('split_from') or '-'}  into {into}")
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
            if entry["from_status"] not in (None, entry["to_status"])  # None: the order's first entry
            else entry["to_status"]
        )
        lines.append(f"    {entry['at']}  {entry['event']:<28} {moved:<32} by {entry['by']}")
    return "\n".join(lines)


def outcome_line(order: dict[str, Any]) -> str:
    order = shown(order)
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
    approve.add_argument("order_ids", metavar="ID", nargs="+", help="one or more (at most 100) order ids")
    approve.add_argument("--note", help="free text for the seller, at most 500 characters")
    reject = commands.add_parser("reject", parents=[common], help="reject cancellation requests")
    reject.add_argument("order_ids", metavar="ID", nargs="+", help="one or more (at most 100) order ids")
    reject.add_argument("--reason", required=True, choices=DECISION_REASONS, help="why it cannot be cancelled")
    reject.add_argument("--note", help="free text for the seller, at most 500 characters")
    status = commands.add_parser("status", parents=[common], help="move an order forward in the warehouse")
    status.add_argument("order_id", metavar="ID")
    status.add_argument("status", choices=STATUSES, metavar="STATUS", help=" | ".join(STATUSES))
    status.add_argument("--tracking", help="the courier's tracking number (with DESPATCHED)")
    track = commands.add_parser(
        "track", parents=[common], help="pass on one courier event for a despatched order (docs/api.md §12)"
    )
    track.add_argument("order_id", metavar="ID")
    track.add_argument(
        "status", type=str.upper, choices=COURIER_STATUSES, metavar="STATUS", help=" | ".join(COURIER_STATUSES)
    )
    track.add_argument("--location", help="where the courier saw the parcel")
    track.add_argument("--at", help="when it happened, ISO 8601 with its offset (default: now)")
    track.add_argument("--event-id", help="the courier's id of the event (default: a new one)")
    status.add_argument(
        "--line",
        action="append",
        type=_backordered_line,
        dest="lines",
        metavar="LINE:SKU:QUANTITY",
        help="with ON_BACKORDER, once per short line: its position in the order (from 1), sku, quantity short",
    )
    status.add_argument("--expected", metavar="DATE", help="with ON_BACKORDER: the day stock is expected, YYYY-MM-DD")
    return parser


def run(arguments: argparse.Namespace, now: datetime) -> str:
    """What one command prints, once the API has answered (Refused when it refuses)."""
    api = Api(_api_url(arguments), getattr(arguments, "region", None))
    return _COMMANDS[arguments.command](api, arguments, now)


def _api_url(arguments: argparse.Namespace) -> str:
    return getattr(arguments, "api", None) or os.environ.get("ORDERS_API_URL") or DEFAULT_API


def _queue(api: Api, arguments: argparse.Namespace, now: datetime) -> str:
    query = {"limit": str(arguments.limit)}
    if arguments.overdue:
        query["overdue"] = "true"
    if arguments.next_token:
        query["next_token"] = arguments.next_token
    page = api.get("/warehouse/cancellation-requests", query)
    if getattr(arguments, "json", False):
        return json.dumps(page, indent=2)
    text = queue_table(page["requests"], now)
    if page["next_token"]:
        # The next page's command, to paste as it is: the same API and filter, the token quoted.
        api_option = f" --api {shlex.quote(arguments.api)}" if getattr(arguments, "api", None) else ""
        overdue = " --overdue" if arguments.overdue else ""
        token = shlex.quote(terminal_safe(str(page["next_token"])))
        text += f"\nMore: orders-warehouse{api_option} queue{overdue} --next-token {token}"
    return text


def _show(api: Api, arguments: argparse.Namespace, now: datetime) -> str:
    order = api.get(_order_path(arguments))
    return json.dumps(order, indent=2) if getattr(arguments, "json", False) else order_text(order, now)


def _decide(api: Api, arguments: argparse.Namespace, now: datetime) -> str:
    """Every id's decision in one bulk call (docs/api.md §13): one line per order, refusals apart."""
    decision = {"decision": "APPROVED" if arguments.command == "approve" else "REJECTED"}
    if arguments.command == "reject":
        decision["reason_code"] = arguments.reason
    if arguments.note is not None:
        decision["note"] = arguments.note
    answer = api.post(
        "/warehouse/cancellation-decisions",
        {"decisions": [{"order_id": oid, **decision} for oid in arguments.order_ids]},
    )
    if getattr(arguments, "json", False):
        return json.dumps(answer, indent=2)
    return decision_lines(answer["results"])


def decision_lines(results: list[dict[str, Any]]) -> str:
    """One line per result: the order as it now stands; Refused with each refusal's line when there are any."""
    done, refused = [], []
    for result in results:
        if "order" in result:
            done.append(outcome_line(result["order"]))
        else:
            # Every problem's detail names its order.
            refused.append(_problem_text(result["status"], json.dumps(result.get("problem")).encode()))
    if refused:
        raise Refused("\n".join(refused), "\n".join(done))
    return "\n".join(done)


def _backordered_line(text: str) -> dict[str, Any]:
    """`2:MUG-WHITE:1` as a backordered line: the line's position, its sku, the quantity short."""
    line, _, rest = text.partition(":")
    sku, _, quantity = rest.rpartition(":")
    if not (line.isascii() and line.isdigit() and sku and quantity.isascii() and quantity.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r}: write it LINE:SKU:QUANTITY, as 2:MUG-WHITE:1")
    return {"line": int(line), "sku": sku, "quantity": int(quantity)}


def _move(api: Api, arguments: argparse.Namespace, now: datetime) -> str:
    body: dict[str, Any] = {"status": arguments.status}
    if arguments.tracking:
        body["tracking_number"] = arguments.tracking
    if getattr(arguments, "lines", None):
        body["backordered_items"] = arguments.lines
    if getattr(arguments, "expected", None):
        body["expected_at"] = arguments.expected
    return _outcome(api.post(f"{_order_path(arguments)}/status", body), arguments)


def _track(api: Api, arguments: argparse.Namespace, now: datetime) -> str:
    event = {
        "event_id": arguments.event_id or f"ops-{uuid.uuid4().hex[:16]}",
        "status": arguments.status,
        "occurred_at": arguments.at or now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        **({"location": arguments.location} if arguments.location else {}),
    }
    order = api.post(f"{_order_path(arguments)}/tracking-events", {"events": [event]})
    if getattr(arguments, "json", False):
        return json.dumps(order, indent=2)
    courier = shown(order).get("courier_status") or {}
    return f"{outcome_line(order)}, courier {courier.get('status') or '-'} ({courier.get('occurred_at') or '-'})"


def _order_path(arguments: argparse.Namespace) -> str:
    return f"/warehouse/orders/{urllib.parse.quote(arguments.order_id, safe='')}"


def _outcome(order: dict[str, Any], arguments: argparse.Namespace) -> str:
    return json.dumps(order, indent=2) if getattr(arguments, "json", False) else outcome_line(order)


_COMMANDS: dict[str, Callable[[Api, argparse.Namespace, datetime], str]] = {
    "queue": _queue,
    "show": _show,
    "approve": _decide,
    "reject": _decide,
    "status": _move,
    "track": _track,
}


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        return _reader_gone()


def _main(argv: list[str] | None) -> int:
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as done:  # after --help (0) or a bad argument (2): what argparse wrote goes out now
        sys.stdout.flush()
        return int(done.code or 0)
    try:
        text = run(arguments, datetime.now(UTC))
    except Refused as refused:
        if refused.done:
            sys.stdout.write(refused.done + "\n")
            sys.stdout.flush()
        # Each refusal on a line of its own (a field error's line, indented, goes with the one before).
        for line in str(refused).split("\n"):
            print(line if line.startswith(" ") else f"orders-warehouse: {line}", file=sys.stderr)
        return 1
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0


def _reader_gone() -> int:
    """The reader closed the pipe (`| head`): stop quietly, with the status of a tool killed by SIGPIPE."""
    # Python flushes stdout once more on exit, which would fail again and print a traceback.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
