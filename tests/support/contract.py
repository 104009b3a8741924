"""docs/api.md §2 written out cell by cell, independently of orders.domain, for the tests to hold it to.

Each cell is what the contract answers: `200 ORDER_CANCELLED` (status and the event it
records), `200 -` (success, unchanged, no event), or `409 CODE`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Rows: every reachable state, as STATUS/REQUEST ("-" for no request).
STATES = (
    "PENDING/-",
    "ON_BACKORDER/-",
    "SENT_TO_WAREHOUSE/-",
    "SENT_TO_WAREHOUSE/REQUESTED",
    "SENT_TO_WAREHOUSE/REJECTED",
    "PICKED/-",
    "PICKED/REQUESTED",
    "PICKED/REJECTED",
    "PACKED/-",
    "PACKED/REQUESTED",
    "PACKED/REJECTED",
    "DESPATCHED/-",
    "DESPATCHED/REJECTED",
    "CANCELLED/-",
    "CANCELLED/APPROVED",
)

COMMANDS = (
    "cancel",
    "request",
    "approve",
    "reject",
    "SENT_TO_WAREHOUSE",
    "PICKED",
    "PACKED",
    "DESPATCHED",
    "edit",
    # docs/api.md §11: the warehouse marks a backorder and ends it; the seller replaces the lines, splits.
    "ON_BACKORDER",
    "PENDING",
    "edit_items",
    "split",
)

_TABLE = """
state                        | cancel                      | request                         | approve                          | reject                         | SENT_TO_WAREHOUSE      | PICKED                 | PACKED                 | DESPATCHED | edit
PENDING/-                    | 200 ORDER_CANCELLED         | 409 ORDER_NOT_IN_WAREHOUSE      | 409 NO_CANCELLATION_REQUEST      | 409 NO_CANCELLATION_REQUEST    | 200 STATUS_CHANGED     | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 200 ORDER_EDITED
SENT_TO_WAREHOUSE/-          | 409 ORDER_IN_WAREHOUSE      | 202 CANCELLATION_REQUESTED      | 409 NO_CANCELLATION_REQUEST      | 409 NO_CANCELLATION_REQUEST    | 200 -                  | 200 STATUS_CHANGED     | 200 STATUS_CHANGED     | 200 STATUS_CHANGED | 409 ORDER_IN_WAREHOUSE
SENT_TO_WAREHOUSE/REQUESTED  | 409 CANCELLATION_PENDING    | 202 -                           | 200 CANCELLATION_APPROVED        | 200 CANCELLATION_REJECTED      | 200 -                  | 200 STATUS_CHANGED     | 200 STATUS_CHANGED     | 200 CANCELLATION_REJECTED | 409 ORDER_IN_WAREHOUSE
SENT_TO_WAREHOUSE/REJECTED   | 409 CANCELLATION_REJECTED   | 409 CANCELLATION_REJECTED       | 409 DECISION_CONFLICT            | 200 -                          | 200 -                  | 200 STATUS_CHANGED     | 200 STATUS_CHANGED     | 200 STATUS_CHANGED | 409 ORDER_IN_WAREHOUSE
PICKED/-                     | 409 ORDER_IN_WAREHOUSE      | 202 CANCELLATION_REQUESTED      | 409 NO_CANCELLATION_REQUEST      | 409 NO_CANCELLATION_REQUEST    | 409 INVALID_TRANSITION | 200 -                  | 200 STATUS_CHANGED     | 200 STATUS_CHANGED | 409 ORDER_IN_WAREHOUSE
PICKED/REQUESTED             | 409 CANCELLATION_PENDING    | 202 -                           | 200 CANCELLATION_APPROVED        | 200 CANCELLATION_REJECTED      | 409 INVALID_TRANSITION | 200 -                  | 200 STATUS_CHANGED     | 200 CANCELLATION_REJECTED | 409 ORDER_IN_WAREHOUSE
PICKED/REJECTED              | 409 CANCELLATION_REJECTED   | 409 CANCELLATION_REJECTED       | 409 DECISION_CONFLICT            | 200 -                          | 409 INVALID_TRANSITION | 200 -                  | 200 STATUS_CHANGED     | 200 STATUS_CHANGED | 409 ORDER_IN_WAREHOUSE
PACKED/-                     | 409 ORDER_IN_WAREHOUSE      | 202 CANCELLATION_REQUESTED      | 409 NO_CANCELLATION_REQUEST      | 409 NO_CANCELLATION_REQUEST    | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 200 -                  | 200 STATUS_CHANGED | 409 ORDER_IN_WAREHOUSE
PACKED/REQUESTED             | 409 CANCELLATION_PENDING    | 202 -                           | 200 CANCELLATION_APPROVED        | 200 CANCELLATION_REJECTED      | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 200 -                  | 200 CANCELLATION_REJECTED | 409 ORDER_IN_WAREHOUSE
PACKED/REJECTED              | 409 CANCELLATION_REJECTED   | 409 CANCELLATION_REJECTED       | 409 DECISION_CONFLICT            | 200 -                          | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 200 -                  | 200 STATUS_CHANGED | 409 ORDER_IN_WAREHOUSE
DESPATCHED/-                 | 409 ORDER_DESPATCHED        | 409 ORDER_DESPATCHED            | 409 NO_CANCELLATION_REQUEST      | 409 NO_CANCELLATION_REQUEST    | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 200 - | 409 ORDER_DESPATCHED
DESPATCHED/REJECTED          | 409 ORDER_DESPATCHED        | 409 ORDER_DESPATCHED            | 409 DECISION_CONFLICT            | 200 -                          | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 200 - | 409 ORDER_DESPATCHED
CANCELLED/-                  | 200 -                       | 409 ORDER_CANCELLED             | 409 NO_CANCELLATION_REQUEST      | 409 NO_CANCELLATION_REQUEST    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED | 409 ORDER_CANCELLED
CANCELLED/APPROVED           | 200 -                       | 409 ORDER_CANCELLED             | 200 -                            | 409 DECISION_CONFLICT          | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED | 409 ORDER_CANCELLED
ON_BACKORDER/-               | 200 ORDER_CANCELLED         | 409 ORDER_NOT_IN_WAREHOUSE      | 409 NO_CANCELLATION_REQUEST      | 409 NO_CANCELLATION_REQUEST    | 200 STATUS_CHANGED     | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 200 ORDER_EDITED
"""

# The columns of docs/api.md §11, for every state. ON_BACKORDER marks a part of the order short, with an
# expected day no earlier marking had (so that it always changes the backorder); edit_items replaces the
# lines; split is made on an order with something in stock (PATHS reaches ON_BACKORDER/- so).
_TABLE_11 = """
state                        | ON_BACKORDER           | PENDING                | edit_items             | split
PENDING/-                    | 200 STATUS_CHANGED     | 200 -                  | 200 ORDER_EDITED       | 409 NOT_ON_BACKORDER
ON_BACKORDER/-               | 200 STATUS_CHANGED     | 200 STATUS_CHANGED     | 200 ORDER_EDITED       | 201 ORDER_SPLIT
SENT_TO_WAREHOUSE/-          | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
SENT_TO_WAREHOUSE/REQUESTED  | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
SENT_TO_WAREHOUSE/REJECTED   | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
PICKED/-                     | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
PICKED/REQUESTED             | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
PICKED/REJECTED              | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
PACKED/-                     | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
PACKED/REQUESTED             | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
PACKED/REJECTED              | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_IN_WAREHOUSE | 409 ORDER_IN_WAREHOUSE
DESPATCHED/-                 | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_DESPATCHED   | 409 ORDER_DESPATCHED
DESPATCHED/REJECTED          | 409 INVALID_TRANSITION | 409 INVALID_TRANSITION | 409 ORDER_DESPATCHED   | 409 ORDER_DESPATCHED
CANCELLED/-                  | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED
CANCELLED/APPROVED           | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED    | 409 ORDER_CANCELLED
"""

# What the portal's button shows in each state: option and unavailable_reason (§3 "The order").
BUTTON = {
    "PENDING/-": ("CANCEL", None),
    "ON_BACKORDER/-": ("CANCEL", None),
    "SENT_TO_WAREHOUSE/-": ("REQUEST", None),
    "PICKED/-": ("REQUEST", None),
    "PACKED/-": ("REQUEST", None),
    "SENT_TO_WAREHOUSE/REQUESTED": ("NONE", "CANCELLATION_PENDING"),
    "PICKED/REQUESTED": ("NONE", "CANCELLATION_PENDING"),
    "PACKED/REQUESTED": ("NONE", "CANCELLATION_PENDING"),
    "SENT_TO_WAREHOUSE/REJECTED": ("NONE", "CANCELLATION_REJECTED"),
    "PICKED/REJECTED": ("NONE", "CANCELLATION_REJECTED"),
    "PACKED/REJECTED": ("NONE", "CANCELLATION_REJECTED"),
    "DESPATCHED/-": ("NONE", "ORDER_DESPATCHED"),
    "DESPATCHED/REJECTED": ("NONE", "ORDER_DESPATCHED"),
    "CANCELLED/-": ("NONE", "ORDER_CANCELLED"),
    "CANCELLED/APPROVED": ("NONE", "ORDER_CANCELLED"),
}

# What the portal's Edit button shows in each state: option and unavailable_reason (§8).
EDITING = {
    "PENDING/-": ("EDIT", None),
    "ON_BACKORDER/-": ("EDIT", None),
    "SENT_TO_WAREHOUSE/-": ("NONE", "ORDER_IN_WAREHOUSE"),
    "SENT_TO_WAREHOUSE/REQUESTED": ("NONE", "ORDER_IN_WAREHOUSE"),
    "SENT_TO_WAREHOUSE/REJECTED": ("NONE", "ORDER_IN_WAREHOUSE"),
    "PICKED/-": ("NONE", "ORDER_IN_WAREHOUSE"),
    "PICKED/REQUESTED": ("NONE", "ORDER_IN_WAREHOUSE"),
    "PICKED/REJECTED": ("NONE", "ORDER_IN_WAREHOUSE"),
    "PACKED/-": ("NONE", "ORDER_IN_WAREHOUSE"),
    "PACKED/REQUESTED": ("NONE", "ORDER_IN_WAREHOUSE"),
    "PACKED/REJECTED": ("NONE", "ORDER_IN_WAREHOUSE"),
    "DESPATCHED/-": ("NONE", "ORDER_DESPATCHED"),
    "DESPATCHED/REJECTED": ("NONE", "ORDER_DESPATCHED"),
    "CANCELLED/-": ("NONE", "ORDER_CANCELLED"),
    "CANCELLED/APPROVED": ("NONE", "ORDER_CANCELLED"),
}

# What the portal's Split order button shows in each state (§11), for an order with something in stock.
SPLITTING = {
    "PENDING/-": ("NONE", "NOT_ON_BACKORDER"),
    "ON_BACKORDER/-": ("SPLIT", None),
    **{
        f"{status}/{request}": ("NONE", "ORDER_IN_WAREHOUSE")
        for status in ("SENT_TO_WAREHOUSE", "PICKED", "PACKED")
        for request in ("-", "REQUESTED", "REJECTED")
    },
    "DESPATCHED/-": ("NONE", "ORDER_DESPATCHED"),
    "DESPATCHED/REJECTED": ("NONE", "ORDER_DESPATCHED"),
    "CANCELLED/-": ("NONE", "ORDER_CANCELLED"),
    "CANCELLED/APPROVED": ("NONE", "ORDER_CANCELLED"),
}

_MOVES = {"ON_BACKORDER", "PENDING", "SENT_TO_WAREHOUSE", "PICKED", "PACKED", "DESPATCHED"}


@dataclass(frozen=True)
class Answer:
    http_status: int
    code: str | None  # the 409's code
    event: str | None  # the history entry (and, for the four of §4, the notification) it records

    @property
    def changes(self) -> bool:
        return self.event is not None


def _parse() -> dict[tuple[str, str], Answer]:
    table = {**_parse_table(_TABLE), **_parse_table(_TABLE_11)}
    assert set(table) == {(state, command) for state in STATES for command in COMMANDS}
    return table


def _parse_table(text: str) -> dict[tuple[str, str], Answer]:
    lines = [line for line in text.strip().splitlines()]
    header = tuple(cell.strip() for cell in lines[0].split("|"))[1:]
    assert set(header) <= set(COMMANDS), header
    table = {}
    for line in lines[1:]:
        state, *cells = [cell.strip() for cell in line.split("|")]
        for command, cell in zip(header, cells, strict=True):
            status, word = cell.split()
            status = int(status)
            if status == 409:
                table[state, command] = Answer(409, word, None)
            else:
                table[state, command] = Answer(status, None, None if word == "-" else word)
    return table


CONTRACT = _parse()


def next_state(state: str, command: str) -> str:
    """The state after `command` in `state`: where a change takes the order (§1, §2); unchanged otherwise."""
    status, request = state.split("/")
    answer = CONTRACT[state, command]
    if not answer.changes:
        return state
    if command == "cancel":
        return "CANCELLED/-"
    if command == "request":
        return f"{status}/REQUESTED"
    if command == "approve":
        return "CANCELLED/APPROVED"
    if command == "reject":
        return f"{status}/REJECTED"
    if command in ("edit", "split"):
        return state
    if command == "edit_items":
        return "PENDING/-"
    assert command in _MOVES
    if answer.event == "CANCELLATION_REJECTED":
        return f"{command}/REJECTED"
    return f"{command}/{request}"


def serially(start: str, commands: tuple[str, ...]) -> tuple[list[Answer], list[str], str]:
    """The contract's answers to `commands` sent one after another from `start`, the history events
    they record, and the state they leave: the oracle a race or a load is checked against."""
    answers, events, state = [], [], start
    for command in commands:
        answer = CONTRACT[state, command]
        answers.append(answer)
        events += [answer.event] if answer.changes else []
        state = next_state(state, command)
    return answers, events, state


# A shortest way to reach each state from a new order, as a list of commands.
PATHS = {
    "PENDING/-": [],
    "ON_BACKORDER/-": ["ON_BACKORDER"],
    "SENT_TO_WAREHOUSE/-": ["SENT_TO_WAREHOUSE"],
    "SENT_TO_WAREHOUSE/REQUESTED": ["SENT_TO_WAREHOUSE", "request"],
    "SENT_TO_WAREHOUSE/REJECTED": ["SENT_TO_WAREHOUSE", "request", "reject"],
    "PICKED/-": ["SENT_TO_WAREHOUSE", "PICKED"],
    "PICKED/REQUESTED": ["SENT_TO_WAREHOUSE", "PICKED", "request"],
    "PICKED/REJECTED": ["SENT_TO_WAREHOUSE", "PICKED", "request", "reject"],
    "PACKED/-": ["SENT_TO_WAREHOUSE", "PACKED"],
    "PACKED/REQUESTED": ["SENT_TO_WAREHOUSE", "PACKED", "request"],
    "PACKED/REJECTED": ["SENT_TO_WAREHOUSE", "PACKED", "request", "reject"],
    "DESPATCHED/-": ["SENT_TO_WAREHOUSE", "DESPATCHED"],
    "DESPATCHED/REJECTED": ["SENT_TO_WAREHOUSE", "request", "DESPATCHED"],
    "CANCELLED/-": ["cancel"],
    "CANCELLED/APPROVED": ["SENT_TO_WAREHOUSE", "request", "approve"],
}
