"""`make capacity`'s command table (infra/capacity/commands.toml) and measured items (measured.json) held
to the code: tests/bench/writes.py drives every path of the table through the real functions on moto,
capturing each PutItem's Item and each UpdateItem's expression at the functions' own client (a botocore
`before-call` handler, as the `dynamodb_calls` fixture counts calls), and sizing the item after each step.
"""

from __future__ import annotations

import json

import pytest

from infra.capacity import data
from orders.domain import NOTIFIED_EVENT_NAMES, told
from tests.bench import writes

REGENERATE = "run `.venv/bin/python -m tests.bench.writes` and commit infra/capacity/measured.json"


@pytest.fixture
def measured(aws) -> dict:
    return writes.measure()


def test_each_command_writes_the_attributes_the_command_table_lists(measured):
    table = data.command_table()
    differences = []
    for path, steps in measured["paths"].items():
        for step in steps:
            command = table.commands[step["command"]]
            sent = step["writes"]
            if len(sent) != command.writes:
                differences.append(
                    f"{path}/{command.name}: {len(sent)} write requests, the table says {command.writes}"
                )
            if sent and sent[-1] != command.listed():
                differences.append(
                    f"{path}/{command.name}: the code writes {sent[-1]}, the table says {command.listed()}"
                )
    assert differences == [], "\n".join(differences)


def test_each_command_adds_the_history_event_the_command_table_names(measured):
    table = data.command_table()
    named = {
        (step["command"], step["event"], table.commands[step["command"]].event)
        for steps in measured["paths"].values()
        for step in steps
    }
    assert [(command, found, said) for command, found, said in named if found != said] == []
    # The table's events are the notifier's words: a typo would silently tell nobody.
    events = {told(command.event, command.status) for command in table.commands.values() if command.event}
    assert set(NOTIFIED_EVENT_NAMES) <= events


def test_a_delivery_writes_what_the_command_table_lists(measured):
    table = data.command_table()
    expected = [table.notifications["feed_put"].listed(), table.notifications["feed_delivered"].listed()]
    assert measured["notifications"]["writes"] == expected


def test_the_committed_measurements_are_what_the_code_writes_now(measured):
    committed = json.loads(data.MEASURED.read_text())
    for path, steps in measured["paths"].items():
        for number, step in enumerate(steps):
            assert step == committed["paths"][path][number], f"{path} step {number} ({step['command']}): {REGENERATE}"
    assert measured == committed, REGENERATE


def test_the_measured_item_reads_back_as_the_model_reads_it(measured):
    # What the model takes from it: a request puts the order in the queue's sparse indexes, every seller's key.
    items = data.measured_from(measured)
    queued = items.image("request_approved/request")
    assert queued.values["queue"] == "CANCELLATION_REQUESTS"
    assert queued.values["seller_id"] == "{seller}"
    assert not items.image("request_approved/approve").has("queue")
    assert 500 < items.image("despatched/create").size() < items.image("despatched/despatch").size() < 2048
