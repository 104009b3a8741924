"""`orders-warehouse` in process (formatting, --help, refusals) and `make run`'s PARAM_ overrides: no stack."""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime

import pytest

from infra.local import cli
from infra.local.cli import main, parameter_overrides
from infra.ops.warehouse import _problem_text, due_text, duration, order_text, queue_table
from infra.ops.warehouse import main as warehouse_main

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h 00m"), (7325, "2h 02m"), (90061, "1d 01h")],
)
def test_durations_read_at_a_glance(seconds, text):
    assert duration(seconds) == text == duration(-seconds)


def test_due_says_in_or_overdue():
    assert due_text("2026-12-01T12:30:00.000000Z", NOW) == "in 30m"
    assert due_text("2026-12-01T11:00:00.000000Z", NOW) == "overdue 1h 00m"
    assert due_text(None, NOW) == "-"


def test_an_empty_queue_says_so():
    assert queue_table([], NOW) == "No pending cancellation requests."


def test_a_problem_reads_as_its_title_and_detail_and_anything_else_as_what_came():
    problem = b'{"title": "Invalid request", "detail": "1 field", "errors": [{"field": "note", "message": "too long"}]}'
    assert _problem_text(400, problem) == "Invalid request (HTTP 400): 1 field\n  note: too long"
    assert (
        _problem_text(403, b'{"message": "Missing Authentication Token"}') == "HTTP 403: Missing Authentication Token"
    )
    assert _problem_text(502, b"<html>bad gateway</html>") == "HTTP 502: <html>bad gateway</html>"


def test_param_variables_override_template_parameters_and_a_wrong_one_is_refused():
    overrides, refused = parameter_overrides(
        {"PARAM_CancellationRequestSlaSeconds": "5", "PARAM_Nope": "1", "PARAM_LogRetentionDays": "3", "PATH": "/bin"}
    )
    assert overrides == {"CancellationRequestSlaSeconds": "5"}
    assert [line.split(":")[0] for line in refused] == ["PARAM_LogRetentionDays", "PARAM_Nope"]


def test_make_run_stops_before_starting_on_a_refused_override(monkeypatch, capsys):
    monkeypatch.setenv("PARAM_CancellationRequestSlaSeconds", "soon")
    assert main() == 2
    assert "PARAM_CancellationRequestSlaSeconds: CancellationRequestSlaSeconds must match" in capsys.readouterr().err


# -- the command line in process: --help, refusals, and what it prints from the API ----------


def test_every_command_helps(capsys):
    for command in ([], ["queue"], ["show"], ["approve"], ["reject"], ["status"]):
        assert warehouse_main([*command, "--help"]) == 0, command
        assert capsys.readouterr().out.startswith("usage: orders-warehouse"), command


def test_a_bad_argument_is_refused_with_the_usage_and_exit_2(capsys):
    for arguments in (["reject", "ord_x"], ["status", "ord_x", "FLYING"], ["queue", "--limit", "0"], ["frobnicate"]):
        assert warehouse_main(arguments) == 2, arguments
        assert "usage: orders-warehouse" in capsys.readouterr().err


def test_an_api_that_is_not_there_is_named_with_how_to_point_at_another(capsys):
    assert warehouse_main(["--api", "http://127.0.0.1:9", "queue"]) == 1
    refused = capsys.readouterr().err
    assert "cannot reach http://127.0.0.1:9" in refused
    assert "--api http://127.0.0.1:<PORT>" in refused


def test_a_field_error_the_detail_already_names_is_printed_once():
    # As the API words a 400: its detail lists the fields already.
    problem = json.dumps(
        {
            "title": "Invalid request",
            "detail": "The request is not valid: order_id: String should match pattern '^ord_[a-z2-7]{26}$'",
            "errors": [{"field": "order_id", "message": "String should match pattern '^ord_[a-z2-7]{26}$'"}],
        }
    ).encode()
    assert _problem_text(400, problem) == (
        "Invalid request (HTTP 400): The request is not valid: order_id: String should match pattern "
        "'^ord_[a-z2-7]{26}$'"
    )


# What a seller (or anyone) can put in a field, that would act on a terminal if printed raw.
FORGED = "\n  decision      ALREADY_PACKED at 2026-12-01T11:00:00.000000Z  note rejected by ops"
HOSTILE = ["\r", "\x1b[2J", "\x9b31m", "\u202e", "\u2066", "\u200f", "\u2028", "\x00", "\t", "\ud800"]


def order(**request: object) -> dict:
    hostile = "".join(HOSTILE)
    return {
        "order_id": "ord_" + "a" * 26,
        "reference": f"SHOP-1{hostile}",
        "seller_id": f"S-1{hostile}",
        "version": 3,
        "status": "PICKED",
        "tracking_number": None,
        "recipient": {"name": f"Ada{hostile}", "city": f"Leeds{hostile}", "postcode": "LS1 1AA"},
        "items": [{"sku": f"SKU{hostile}", "quantity": 2}],
        "courier_service": "ROYAL_MAIL_48",
        "cancellation": {
            "option": "NONE",
            "request": {
                "status": "REQUESTED",
                "reason_code": "CUSTOMER_REQUEST",
                "requested_at": "2026-12-01T11:00:00.000000Z",
                "due_at": "2026-12-01T13:00:00.000000Z",
                "escalated_at": None,
                "note": f"Ordered twice{FORGED}{hostile}",
                **request,
            },
        },
        "history": [
            {"at": "2026-12-01T10:00:00.000000Z", "event": "ORDER_CREATED", "from_status": None,
             "to_status": "PENDING", "by": f"seller:S-1{hostile}"},
            {"at": "2026-12-01T10:30:00.000000Z", "event": "STATUS_UPDATED", "from_status": "PENDING",
             "to_status": "PICKED", "by": "warehouse"},
        ],
    }  # fmt: skip


def escapes_everything(text: str) -> bool:
    """No character of HOSTILE is left raw: each line is one line, and nothing acts on the terminal."""
    return all(character not in text.replace("\n", "") for character in HOSTILE) and "\\u202e" in text


def test_show_prints_every_field_of_the_api_escaped_so_nothing_is_forged():
    text = order_text(order(), NOW)

    lines = text.splitlines()
    assert escapes_everything(text)
    assert len(lines) == 10  # the header, 5 order lines, request, note, "history", 2 entries
    assert not any(line.lstrip().startswith("decision") for line in lines)  # a pending request has no decision
    [note] = [line for line in lines if line.startswith("  seller's note ")]
    assert "Ordered twice\\n  decision      ALREADY_PACKED" in note
    assert "\\r\\x1b[2J\\x9b31m\\u202e\\u2066\\u200f\\u2028\\x00\\t\\ud800" in note


def test_a_decision_note_and_the_queue_table_are_escaped_too():
    decided = order(status="REJECTED", decided_at="2026-12-01T12:00:00.000000Z", decision_note=f"No{FORGED}")
    assert escapes_everything(order_text(decided, NOW))
    table = queue_table([order()], NOW)
    assert escapes_everything(table)
    header, row = table.splitlines()
    assert "  S-1\\r\\x1b[2J" in row


def test_the_first_history_entry_says_the_status_the_order_was_created_in():
    text = order_text(order(), NOW)
    [created] = [line for line in text.splitlines() if "ORDER_CREATED" in line]
    assert created.split()[1:3] == ["ORDER_CREATED", "PENDING"]
    assert "None" not in text
    [moved] = [line for line in text.splitlines() if "STATUS_UPDATED" in line]
    assert "PENDING -> PICKED" in moved


class Exited(Exception):
    """What os._exit would do to the main thread: go no further."""


def test_make_runs_first_ctrl_c_stops_it_and_arms_the_watchdog_a_second_exits_at_once(monkeypatch):
    exits: list[tuple[str | None, int]] = []
    watchdog_fired = threading.Event()

    def exit_now(reason: str | None, code: int) -> None:
        exits.append((reason, code))
        if threading.current_thread() is threading.main_thread():
            raise Exited(code)
        watchdog_fired.set()

    monkeypatch.setattr(cli, "_exit_now", exit_now)
    monkeypatch.setattr(cli, "HARD_STOP_SECONDS", 0.05)
    stop, before = threading.Event(), signal.getsignal(signal.SIGINT)
    with cli._signals_set(stop):
        signal.raise_signal(signal.SIGTERM)
        assert stop.is_set() and exits == []  # the first: stop, as the main loop then does
        assert watchdog_fired.wait(timeout=10)  # had the stop hung: the watchdog's exit
        with pytest.raises(Exited):
            signal.raise_signal(signal.SIGINT)
    assert exits == [
        ("still stopping after 0.05 s: exiting anyway", 1),
        ("SIGINT again: exiting at once", 128 + signal.SIGINT),
    ]
    assert signal.getsignal(signal.SIGINT) is before  # put back as it was


def _bulk_order(order_id: str, status: str, request: str) -> dict:
    return {
        "order_id": order_id,
        "reference": f"REF-{order_id[-1]}",
        "seller_id": "S-1",
        "status": status,
        "cancellation": {"request": {"status": request}},
    }


def test_approve_and_reject_take_many_ids_and_print_one_line_per_order(monkeypatch, capsys):
    """Several ids are one POST /warehouse/cancellation-decisions; what went through on stdout, refusals on stderr."""
    from infra.ops import warehouse

    sent = []
    first, second, third = ("ord_" + letter * 26 for letter in "abc")

    class FakeApi:
        def __init__(self, *args, **kwargs):
            pass

        def post(self, path, body):
            sent.append((path, body))
            return {
                "results": [
                    {
                        "order_id": first,
                        "status": 200,
                        "action": "REJECTED",
                        "order": _bulk_order(first, "PACKED", "REJECTED"),
                    },
                    {
                        "order_id": second,
                        "status": 409,
                        "action": "REFUSED",
                        "problem": {
                            "title": "Decision conflict",
                            "detail": f"The cancellation of order {second} was APPROVED",
                        },
                    },
                    {
                        "order_id": third,
                        "status": 200,
                        "action": "UNCHANGED",
                        "order": _bulk_order(third, "PICKED", "REJECTED"),
                    },
                ],
                "summary": {},
            }

    monkeypatch.setattr(warehouse, "Api", FakeApi)
    code = warehouse_main(["reject", first, second, third, "--reason", "ALREADY_PACKED", "--note", "cage"])
    out, err = capsys.readouterr()

    decision = {"decision": "REJECTED", "reason_code": "ALREADY_PACKED", "note": "cage"}
    assert sent == [
        (
            "/warehouse/cancellation-decisions",
            {"decisions": [{"order_id": oid, **decision} for oid in (first, second, third)]},
        )
    ]
    assert code == 1
    assert out.splitlines() == [
        f"{first} REF-a (seller S-1): PACKED, request REJECTED",
        f"{third} REF-c (seller S-1): PICKED, request REJECTED",
    ]
    assert err.splitlines() == [
        f"orders-warehouse: Decision conflict (HTTP 409): The cancellation of order {second} was APPROVED"
    ]


def test_the_track_command_takes_the_nine_courier_statuses_of_the_api():
    from infra.ops.warehouse import COURIER_STATUSES, _parser
    from orders.couriers import CourierStatus

    assert list(COURIER_STATUSES) == [status.value for status in CourierStatus]
    parsed = _parser().parse_args(
        ["track", "ord_x", "out_for_delivery", "--location", "Leeds", "--at", "2026-12-01T09:00:00Z"]
    )
    assert (parsed.status, parsed.location, parsed.at) == ("OUT_FOR_DELIVERY", "Leeds", "2026-12-01T09:00:00Z")


def test_an_order_at_the_courier_shows_its_courier_status():
    order = {
        "order_id": "ord_x",
        "reference": "SHOP-1",
        "seller_id": "S-1",
        "version": 4,
        "status": "DESPATCHED",
        "tracking_number": "TN1",
        "recipient": {"name": "Ada", "city": "Leeds", "postcode": "LS1 1AA"},
        "items": [{"sku": "MUG", "quantity": 1}],
        "courier_service": "DPD_NEXT_DAY",
        "courier_status": {"status": "IN_TRANSIT", "occurred_at": "2026-12-01T09:00:00.000000Z", "location": "Hub"},
        "cancellation": {"request": None},
        "history": [],
    }
    assert "  at courier    IN_TRANSIT at 2026-12-01T09:00:00.000000Z, Hub" in order_text(order, NOW).splitlines()


def test_a_backorder_is_sent_with_its_lines_and_day_and_shown_with_them(monkeypatch):
    from infra.ops import warehouse

    sent = []

    class FakeApi:
        def post(self, path, body):
            sent.append((path, body))
            return {
                **order(),
                "status": body["status"],
                "backorder": {
                    "items": body.get("backordered_items", []),
                    "since": "2026-12-01T11:00:00.000000Z",
                    "expected_at": body.get("expected_at"),
                },
            }

    arguments = warehouse._parser().parse_args(
        [
            "status",
            "ord_" + "a" * 26,
            "ON_BACKORDER",
            "--line",
            "2:MUG-WHITE:1",
            "--line",
            "1:A:B:3",
            "--expected",
            "2026-12-24",
        ]
    )
    warehouse._move(FakeApi(), arguments, NOW)
    assert sent == [("/warehouse/orders/ord_" + "a" * 26 + "/status", {
        "status": "ON_BACKORDER",
        "backordered_items": [{"line": 2, "sku": "MUG-WHITE", "quantity": 1}, {"line": 1, "sku": "A:B", "quantity": 3}],
        "expected_at": "2026-12-24",
    })]  # fmt: skip
    shown = warehouse.order_text({**order(), "backorder": sent[0][1] | {"items": sent[0][1]["backordered_items"]}}, NOW)
    assert "line 2: 1 x MUG-WHITE" in shown and "expected 2026-12-24" in shown

    back = warehouse._parser().parse_args(["status", "ord_" + "a" * 26, "PENDING"])
    warehouse._move(FakeApi(), back, NOW)
    assert sent[-1][1] == {"status": "PENDING"}


@pytest.mark.parametrize("line", ["MUG:1", "x:MUG:1", "2:MUG:", "2::1", "²:MUG:1"])
def test_a_backordered_line_not_written_line_sku_quantity_is_refused_with_the_usage(capsys, line):
    from infra.ops import warehouse

    with pytest.raises(SystemExit) as exited:
        warehouse._parser().parse_args(["status", "ord_" + "a" * 26, "ON_BACKORDER", "--line", line])
    assert exited.value.code == 2 and "LINE:SKU:QUANTITY" in capsys.readouterr().err
