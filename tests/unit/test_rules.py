"""The rules table of docs/api.md §2, cell by cell, against orders.domain (pure: no AWS)."""

import pytest

from orders import domain
from orders.domain import (
    Action,
    CancellationOption,
    EditingOption,
    OrderStatus,
    Refusal,
    State,
    Transition,
    Unchanged,
)
from tests.support.commands import ACTIONS, name_of, state
from tests.support.contract import BUTTON, COMMANDS, CONTRACT, EDITING, SPLITTING, STATES, next_state


def test_the_domain_knows_exactly_the_contracts_states():
    assert sorted(name_of(s) for s in domain.ALL_STATES) == sorted(STATES)


@pytest.mark.parametrize("state_name", STATES)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_cell_of_the_rules_table(state_name, command):
    # Given an order in a state, when a command arrives, then the outcome is the contract's.
    expected = CONTRACT[state_name, command]
    outcome = domain.decide(state(state_name), ACTIONS[command])

    if expected.http_status == 409:
        assert outcome == domain.Refusal(expected.code)
    elif expected.event is None:
        assert isinstance(outcome, Unchanged)
    else:
        assert isinstance(outcome, Transition)
        assert outcome.event == expected.event
        assert name_of(outcome.apply(state(state_name))) == next_state(state_name, command)


@pytest.mark.parametrize("state_name", STATES)
def test_the_cancel_button_is_read_off_the_same_table(state_name):
    option, reason = domain.cancellation_option(state(state_name))
    assert (option.value, reason.value if reason else None) == BUTTON[state_name]


@pytest.mark.parametrize("state_name", STATES)
def test_the_edit_button_is_read_off_the_same_table(state_name):
    option, reason = domain.editing_option(state(state_name))
    assert (option.value, reason.value if reason else None) == EDITING[state_name]


@pytest.mark.parametrize("state_name", STATES)
def test_the_split_button_is_read_off_the_same_table(state_name):
    option, reason = domain.splitting_option(state(state_name))
    assert (option.value, reason.value if reason else None) == SPLITTING[state_name]


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_writes_from_disjoint_sets_of_states(command):
    # The store tries one conditional write per transition: no state may match two of them.
    groups = domain.transitions(ACTIONS[command])
    seen = [s for states in groups.values() for s in states]
    assert len(seen) == len(set(seen))
    assert {name_of(s) for s in seen} == {s for s in STATES if CONTRACT[s, command].changes}


def test_only_a_despatch_meeting_a_pending_request_has_two_possible_writes():
    multi = {command for command in COMMANDS if len(domain.transitions(ACTIONS[command])) > 1}
    assert multi == {"DESPATCHED"}
    first = next(iter(domain.transitions(ACTIONS["DESPATCHED"])))
    assert first.event == domain.Event.STATUS_CHANGED  # the common case is tried first


def test_status_moves_only_forward_and_through_the_warehouse():
    for state_name in STATES:
        status = state_name.split("/")[0]
        for target in ("SENT_TO_WAREHOUSE", "PICKED", "PACKED", "DESPATCHED"):
            answer = CONTRACT[state_name, target]
            if status == "CANCELLED":
                assert answer.code == "ORDER_CANCELLED"
            elif answer.code == "INVALID_TRANSITION":
                order = [s.value for s in domain.FULFILMENT_ORDER]
                assert status in ("PENDING", "ON_BACKORDER") or order.index(target) < order.index(status)


# -- the bounds of docs/api.md §15 ------------------------------------------------------------------


def test_an_edit_past_the_edit_limit_is_refused_and_the_button_says_why():
    from orders.domain import MAX_EDITS, Growth, bound, editing_option

    pending = State(OrderStatus.PENDING)
    assert bound(Action.EDIT, Growth(edits=MAX_EDITS - 1)) is None
    assert bound(Action.EDIT, Growth(edits=MAX_EDITS)) == Refusal.EDIT_LIMIT
    assert bound(Action.CANCEL, Growth(edits=MAX_EDITS)) is None  # the edits' bound is theirs alone
    assert editing_option(pending, Growth(edits=MAX_EDITS)) == (EditingOption.NONE, Refusal.EDIT_LIMIT)
    # A state whose rules refuse the edit says so first.
    assert editing_option(State(OrderStatus.PICKED), Growth(edits=MAX_EDITS))[1] == Refusal.ORDER_IN_WAREHOUSE


def test_a_history_at_its_bound_refuses_every_change_and_every_button_says_why():
    from orders.domain import MAX_HISTORY, Growth, bound, cancellation_option, editing_option

    full = Growth(history=MAX_HISTORY)
    assert all(bound(action, full) == Refusal.HISTORY_LIMIT for action in Action)
    assert bound(Action.CANCEL, Growth(history=MAX_HISTORY - 1)) is None
    assert cancellation_option(State(OrderStatus.PENDING), full) == (CancellationOption.NONE, Refusal.HISTORY_LIMIT)
    assert cancellation_option(State(OrderStatus.PICKED), full) == (CancellationOption.NONE, Refusal.HISTORY_LIMIT)
    assert editing_option(State(OrderStatus.PENDING), full) == (EditingOption.NONE, Refusal.HISTORY_LIMIT)
    # A button the rules grey out keeps its own reason.
    assert cancellation_option(State(OrderStatus.DESPATCHED), full) == (
        CancellationOption.NONE,
        Refusal.ORDER_DESPATCHED,
    )


# -- bulk cancellation (docs/api.md §13): each order's single command, read off the same table --------


def test_a_bulk_cancel_sends_the_cancel_unless_a_request_does_what_the_cancel_cannot():
    from orders.domain import ALL_STATES, Action, Refusal, Transition, Unchanged, bulk_cancel_command, decide

    for reached in ALL_STATES:
        cancel, request = decide(reached, Action.CANCEL), decide(reached, Action.REQUEST_CANCELLATION)
        assert bulk_cancel_command(reached, request_in_warehouse=False) == Action.CANCEL
        wanted = (
            Action.REQUEST_CANCELLATION
            if isinstance(request, Transition | Unchanged) and isinstance(cancel, Refusal)
            else Action.CANCEL
        )
        assert bulk_cancel_command(reached, request_in_warehouse=True) == wanted, reached


def test_the_bulk_command_of_each_row_of_the_seller_table():
    from orders.domain import Action, OrderStatus, RequestStatus, State, bulk_cancel_command

    request, cancel = Action.REQUEST_CANCELLATION, Action.CANCEL
    expected = {
        State(OrderStatus.PENDING): cancel,
        State(OrderStatus.PICKED): request,
        State(OrderStatus.PACKED, RequestStatus.REQUESTED): request,
        State(OrderStatus.PACKED, RequestStatus.REJECTED): cancel,
        State(OrderStatus.DESPATCHED): cancel,
        State(OrderStatus.CANCELLED): cancel,
        State(OrderStatus.CANCELLED, RequestStatus.APPROVED): cancel,
    }
    assert {state: bulk_cancel_command(state, True) for state in expected} == expected


def test_a_bulk_result_names_what_the_command_did_and_a_bound_refuses_as_the_write_would():
    from orders.domain import (
        MAX_HISTORY,
        Action,
        BulkAction,
        Growth,
        OrderStatus,
        Refusal,
        State,
        Unchanged,
        bulk_action,
        decide,
        planned_outcome,
    )

    pending = State(OrderStatus.PENDING)
    assert bulk_action(decide(pending, Action.CANCEL)) == BulkAction.CANCELLED
    assert (
        bulk_action(decide(State(OrderStatus.PICKED), Action.REQUEST_CANCELLATION)) == BulkAction.CANCELLATION_REQUESTED
    )
    assert bulk_action(Unchanged()) == BulkAction.UNCHANGED
    assert bulk_action(Refusal.ORDER_DESPATCHED) == BulkAction.REFUSED
    assert planned_outcome(pending, Action.CANCEL, Growth(history=MAX_HISTORY)) == Refusal.HISTORY_LIMIT
    assert planned_outcome(pending, Action.CANCEL, Growth(history=3)) == decide(pending, Action.CANCEL)
    # A bound never turns "unchanged" or a refusal into another answer.
    cancelled = State(OrderStatus.CANCELLED)
    assert planned_outcome(cancelled, Action.CANCEL, Growth(history=MAX_HISTORY)) == Unchanged()


# -- backorders and splits (docs/api.md §11) --------------------------------------------------------


def test_an_order_with_nothing_in_stock_or_split_to_its_bound_cannot_be_split_and_the_button_says_why():
    from orders.domain import MAX_SPLITS, Growth, SplittingOption, splitting_option

    on_backorder = State(OrderStatus.ON_BACKORDER)
    assert splitting_option(on_backorder, in_stock=False) == (SplittingOption.NONE, Refusal.NOTHING_IN_STOCK)
    assert splitting_option(on_backorder, Growth(splits=MAX_SPLITS)) == (SplittingOption.NONE, Refusal.SPLIT_LIMIT)
    assert splitting_option(on_backorder, Growth(splits=MAX_SPLITS - 1)) == (SplittingOption.SPLIT, None)
    # The state's own refusal comes first: a cancelled order says so, whatever its lines.
    assert splitting_option(State(OrderStatus.CANCELLED), in_stock=False)[1] == Refusal.ORDER_CANCELLED


def test_a_split_ships_each_lines_quantity_less_its_backordered_quantity_and_keeps_the_rest():
    items = [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}, {"sku": "C", "quantity": 2}]
    backordered = [{"line": 1, "sku": "A", "quantity": 1}, {"line": 2, "sku": "B", "quantity": 1}]

    ships, waits, renumbered = domain.split_lines(items, backordered)

    assert ships == [{"sku": "A", "quantity": 2}, {"sku": "C", "quantity": 2}]  # B wholly backordered: dropped
    assert waits == [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}]
    # What waits is the order's new lines: the backorder names them by their new positions, wholly.
    assert renumbered == [{"line": 1, "sku": "A", "quantity": 1}, {"line": 2, "sku": "B", "quantity": 1}]
    assert domain.has_stock(items, backordered)
    assert not domain.has_stock(waits, renumbered)  # a second split has nothing to ship
    assert not domain.has_stock(items, None)


def test_a_backorder_naming_a_line_the_order_does_not_hold_says_which_and_why():
    items = [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}]
    named = [
        {"line": 1, "sku": "A", "quantity": 3},  # fine: wholly
        {"line": 2, "sku": "X", "quantity": 1},
        {"line": 1, "sku": "A", "quantity": 4},
        {"line": 3, "sku": "C", "quantity": 1},
    ]
    found = domain.backorder_mismatches(items, named)
    assert [index for index, _ in found] == [1, 2, 3]
    assert "line 2 holds B, not X" in found[0][1]
    assert "fewer than 4" in found[1][1]
    assert "no line 3" in found[2][1]


def test_a_move_to_on_backorder_tells_order_backordered_and_a_split_tells_order_split():
    from orders.domain import Event, told

    assert told("STATUS_CHANGED", "ON_BACKORDER") == Event.ORDER_BACKORDERED
    assert told("ORDER_SPLIT", None) == Event.ORDER_SPLIT
    assert told("STATUS_CHANGED", "PENDING") is None  # stock arriving tells nobody, as any plain move
    assert told("ORDER_CREATED", "PENDING") is None  # nor does a split-off order's creation
    assert told("CANCELLATION_REQUESTED", None) == Event.CANCELLATION_REQUESTED


def test_an_items_edit_before_the_warehouse_is_one_write_whatever_the_status():
    groups = domain.transitions(Action.EDIT_ITEMS)
    assert len(groups) == 1
    [(transition, states)] = groups.items()
    assert transition.status == OrderStatus.PENDING and transition.clears_backorder
    assert {s.status for s in states} == {OrderStatus.PENDING, OrderStatus.ON_BACKORDER}
