"""The rules table of docs/api.md §2, cell by cell, against orders.domain (pure: no AWS)."""

import pytest

from orders import domain
from orders.domain import Transition, Unchanged
from tests.support.commands import ACTIONS, name_of, state
from tests.support.contract import BUTTON, COMMANDS, CONTRACT, EDITING, STATES, next_state


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
                assert order.index(target) < order.index(status) or status == "PENDING"
