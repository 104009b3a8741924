"""`make capacity`'s arithmetic (infra/capacity/), held on a profile small enough to work out by hand, its
index rules one by one, the first-to-saturate choice, and the real data files read end to end."""

from __future__ import annotations

import copy
import math

import pytest

from infra.capacity import data
from infra.capacity.__main__ import main
from infra.capacity.data import Aws, Command, CommandTable, Duration, Figure, Image, Measured, MeasuredDuration, Step
from infra.capacity.model import Inputs, analyse, billed_ms, query_units
from infra.capacity.stack import Index, Stack
from infra.capacity.usage import Usage, costs, first_to_saturate, saturation, usages
from infra.capacity.writes import DELETE, PUT, UPDATE, derive, index_writes, lifecycle, step_writes, unwritten_keys
from tests.bench import cost as bench_cost
from tests.bench.writes import attributes_written

# -- a stack small enough to compute by hand ---------------------------------------------------------

STAGE = {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200}


def _function(path: str, method: str = "post") -> dict:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {"Events": {"Call": {"Type": "Api", "Properties": {"Path": path, "Method": method}}}},
    }


def _key(name: str, kind: str = "HASH") -> dict:
    return {"AttributeName": name, "KeyType": kind}


DOCUMENT = {
    "Globals": {"Function": {"MemorySize": 1769}},
    "Parameters": {"DeliveryRetryDelaysSeconds": {"Default": "60,60"}},
    "Resources": {
        "OrdersTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "KeySchema": [_key("order_id")],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "by-seller",
                        "KeySchema": [_key("seller_id"), _key("created_at", "RANGE")],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    },
                    {"IndexName": "by-status", "KeySchema": [_key("status")], "Projection": {"ProjectionType": "ALL"}},
                ],
                "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            },
        },
        "OrdersApi": {"Type": "AWS::Serverless::Api", "Properties": {"MethodSettings": [STAGE]}},
        "CreateFunction": _function("/orders"),
        "StatusFunction": _function("/warehouse/orders/{order_id}/status"),
        "NotifierFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Events": {
                    "Stream": {
                        "Type": "DynamoDB",
                        "Properties": {"Stream": {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}, "BatchSize": 10},
                    }
                }
            },
        },
    },
}
TABLE = CommandTable(
    commands={
        "create": Command(
            "create", route="POST /orders", put=frozenset({"order_id", "seller_id", "created_at", "status", "history"})
        ),
        "send": Command("send", route="POST /warehouse/orders/{order_id}/status", set=frozenset({"status", "history"})),
    },
    notifications={},
    paths={"despatched": ("create", "send")},
    reads={},
    durations={
        "POST /orders": Duration("POST /orders", "create"),
        "POST /warehouse/orders/{order_id}/status": Duration("POST /warehouse/orders/{order_id}/status", "move"),
        "NotifierFunction": Duration("NotifierFunction", "notify"),
        "NotifierFunction, plain records": Duration("NotifierFunction, plain records", "notify_plain"),
    },
)
CREATED = Image(
    {"order_id": 30, "seller_id": 15, "created_at": 5, "status": 20, "history": 500},
    {"order_id": "{order}", "seller_id": "{seller}", "created_at": "{time}", "status": "PENDING"},
)
SENT = Image({**CREATED.sizes, "status": 25, "history": 1100}, {**CREATED.values, "status": "SENT"})
MEASURED = Measured(
    paths={"despatched": (Step("create", "ORDER_CREATED", CREATED), Step("send", "STATUS_CHANGED", SENT))},
    feed_item=Image({"pk": 20}),
    channel_items=(),
    event_bytes=500,
)


def _figures(**values: float) -> dict[str, Figure]:
    return {name: Figure(value, "test") for name, value in values.items()}


AWS = Aws(
    region="eu-west-2",
    limits=_figures(
        api_account_rate=10000,
        lambda_concurrency=1000,
        partition_write_units=1000,
        partition_read_units=3000,
        table_write_units=40000,
        table_read_units=40000,
        initial_partitions=4,
        shard_records=1000,
        shard_bytes=1048576,
        stream_polls_per_second=4,
        sns_publish_rate=300,
        sqs_in_flight=120000,
    ),
    # A dollar a million of everything, so that a figure per million orders is a count per order.
    prices=_figures(
        api_rest_request=1e-6,
        lambda_gb_second=0.0,
        lambda_request=1e-6,
        dynamodb_write_unit=1e-6,
        dynamodb_read_unit=1e-6,
        stream_read_unit=0.0,
        sns_publish=1e-6,
        sqs_request=1e-6,
        logs_ingested_gb=0.0,
    ),
    prices_date="test",
    assumed=_figures(full_vcpu_mb=1769, platform_log_bytes=0, index_entry_overhead_bytes=0),
)


def _duration(name: str, function: str, cpu: float, wait: float) -> MeasuredDuration:
    return MeasuredDuration(name, function, cpu, wait, 0, 40, "test", "test")


DURATIONS = {
    "create": _duration("create", "CreateFunction", 2, 8),
    "move": _duration("move", "StatusFunction", 1, 4),
    "notify": _duration("notify", "NotifierFunction", 1, 9),
    "notify_plain": MeasuredDuration("notify_plain", "NotifierFunction", 2, 0, 0, 40, "test", "test", records=10),
}
PROFILE = data.Profile(
    name="hand",
    orders_per_second=10,
    sellers=0,
    largest_seller_share=0.3,
    **dict.fromkeys(
        [
            "cancelled_at_once",
            "requested",
            "approved",
            "rejected",
            "escalated",
            "edited",
            "edits_per_edited_order",
            "tracking_events_per_despatched_order",
            "channels_per_seller",
            "order_reads_per_order",
            "list_pages_per_order",
            "status_list_pages_per_order",
            "queue_pages_per_request",
            "warehouse_reads_per_request",
            "portal_tabs_per_seller",
            "portal_share",
        ],
        0.0,
    ),
    feed_poll_seconds=3,
    list_page_size=10,
    feed_page_size=10,
    queue_page_size=25,
)


def _inputs(document: dict = DOCUMENT) -> Inputs:
    return Inputs(Stack(document), TABLE, MEASURED, AWS, DURATIONS, frozenset({"ORDER_CANCELLED"}))


def test_a_profile_worked_out_by_hand():
    """10 orders a second, each created (a put of 570 bytes) and sent (570 -> 1,175 bytes).

    create: table ceil(570/1024) = 1 WRU; by-seller (KEYS_ONLY: seller_id 15 + created_at 5 + order_id 30 =
            50 bytes) a put, 1 WRU on {seller}; by-status (ALL, 570 bytes) a put, 1 WRU on PENDING.
    send:   table ceil(max(570, 1175)/1024) = 2 WRU; by-seller: status and history are not projected,
            nothing; by-status: its key changes, a delete of the old entry (570: 1 WRU on PENDING) and a
            put of the new (1,175: 2 WRU on SENT).
    A second: table 10 x (1 + 2) = 30 WRU; by-seller 10 WRU on {seller}, the largest seller's 30 % = 3;
    by-status PENDING 10 x (1 + 1) = 20, SENT 10 x 2 = 20: the hottest 20 WRU/s, every seller's.
    API: 10 creates + 10 status moves = 20 requests/s; the stage's 100 is each method's, the busiest 10: 10 %.
    Lambda at 1,769 MB (no stretch): create 2 + 8 = 10 ms, move 1 + 4 = 5 ms; the notifier tells
    nothing here, so a record costs a tenth of a measured batch of ten plain records (2 ms): 0.2 ms.
    Concurrency 10 x 0.010 + 10 x 0.005 + 20 x 0.0002 = 0.154.
    Stream: 20 records/s on max(4, ceil(30/1000)) = 4 shards: 5 a shard, a notifier 5 x 0.2 ms = 0.1 % busy.
    Per million orders at $1 a million of each: 2 requests, 3 + 1 + 4 write units.
    """
    inputs = _inputs()
    assert lifecycle(inputs.spec, TABLE, MEASURED, "despatched") == {"table": 3, "by-seller": 1, "by-status": 4}
    analysis = analyse(inputs, PROFILE)
    assert analysis.table_write_units == 30
    assert dict(analysis.index_writes["by-seller"]) == {"{seller}": 10}
    assert dict(analysis.index_writes["by-status"]) == {"PENDING": 20, "SENT": 20}
    assert analysis.hottest("by-seller") == ("{seller}", pytest.approx(3))
    assert analysis.hottest("by-status")[1] == 20
    assert analysis.partitions == 4
    assert analysis.stream_records == 20
    assert analysis.stream_bytes == 10 * 570 + 10 * 1175
    assert analysis.notifier_busy == pytest.approx(0.001)
    found = {usage.key: usage for usage in usages(analysis)}
    assert found["api-stage"].used == 10 and found["api-stage"].share == pytest.approx(0.1)
    assert found["api-account"].used == 20
    assert found["lambda"].used == pytest.approx(0.154)
    assert found["index-writes-by-status"].used == 20
    assert found["index-writes-by-seller"].used == pytest.approx(3)
    per_million = {cost.item: cost.per_million(10) for cost in costs(analysis)}
    assert per_million["API Gateway REST requests (preflights included)"] == pytest.approx(2)
    assert per_million["DynamoDB orders table writes"] == pytest.approx(3)
    assert per_million["DynamoDB index by-seller writes"] == pytest.approx(1)
    assert per_million["DynamoDB index by-status writes"] == pytest.approx(4)


def test_the_first_to_saturate_and_the_load_at_which_it_does():
    """At 10 orders/s the stage throttle's busiest method is at 10 % and the rest lower: it saturates first,
    at 10 / 0.1 = 100 orders/s. With the stage at 10,000 requests/s, by-status's PENDING partition (20 of
    1,000 WRU/s, 2 %) is next, at 10 / 0.02 = 500 orders/s, well before the account's API throttle (20 of
    10,000: at 5,000)."""
    inputs = _inputs()
    first = first_to_saturate(usages(analyse(inputs, PROFILE)))
    assert first.key == "api-stage"
    assert saturation(inputs, PROFILE, first.key) == pytest.approx(100, rel=1e-3)

    raised = copy.deepcopy(DOCUMENT)
    raised["Resources"]["OrdersApi"]["Properties"]["MethodSettings"] = [{**STAGE, "ThrottlingRateLimit": 10000}]
    inputs = _inputs(raised)
    first = first_to_saturate(usages(analyse(inputs, PROFILE)))
    assert (first.key, first.resource) == (
        "index-writes-by-status",
        "index by-status, partition PENDING (every seller's), writes",
    )
    assert saturation(inputs, PROFILE, first.key) == pytest.approx(500, rel=1e-3)
    assert saturation(inputs, PROFILE, "api-account") == pytest.approx(5000, rel=1e-3)


def test_what_follows_the_load_is_never_the_first_ceiling():
    found = [
        Usage("partition", "a partition of the table", 990, 1000, "WRU/s", ceiling=False),
        Usage("api-stage", "the stage", 50, 100, "requests/s"),
    ]
    assert first_to_saturate(found).key == "api-stage"


# -- the index rules -----------------------------------------------------------------------------------

KEYS = ("order_id",)
ITEM = Image({"order_id": 30, "seller_id": 15, "status": 20, "history": 900}, {"seller_id": "{seller}"})
QUEUED = Image({**ITEM.sizes, "queue": 26, "queue_due": 60}, {**ITEM.values, "queue": "Q"})
QUEUE = Index("queue", ("queue", "queue_due"), "ALL")


def test_a_sparse_index_takes_a_put_when_its_keys_arrive_and_a_delete_when_they_go():
    """The queue projects ALL: its entry is the whole item, 965 bytes + queue 26 + queue_due 60 = 1,051: 2 units."""
    request = Command("request", set=frozenset({"queue", "queue_due", "history"}))
    decide = Command("decide", set=frozenset({"history"}), remove=frozenset({"queue", "queue_due"}))
    entered = index_writes(QUEUE, request, ITEM, QUEUED, KEYS)
    assert [(write.kind, write.units, write.partition) for write in entered] == [(PUT, 2, "Q")]
    assert [(write.kind, write.units) for write in index_writes(QUEUE, decide, QUEUED, ITEM, KEYS)] == [(DELETE, 2)]
    assert index_writes(QUEUE, Command("edit", set=frozenset({"history"})), ITEM, ITEM, KEYS) == []


def test_a_write_touches_an_index_only_through_what_it_projects():
    move = Command("move", set=frozenset({"status", "history"}))
    grown = Image({**ITEM.sizes, "history": 1100}, ITEM.values)  # 965 -> 1,165 bytes
    keys_only = Index("by-seller", ("seller_id",), "KEYS_ONLY")
    included = Index("by-seller", ("seller_id",), "INCLUDE", frozenset({"status"}))
    everything = Index("by-seller", ("seller_id",), "ALL")
    assert index_writes(keys_only, move, ITEM, grown, KEYS) == []
    assert [(w.kind, w.units) for w in index_writes(included, move, ITEM, grown, KEYS)] == [(UPDATE, 1)]  # 65 bytes
    assert [(w.kind, w.units) for w in index_writes(everything, move, ITEM, grown, KEYS)] == [(UPDATE, 2)]  # larger
    assert index_writes(included, Command("note", set=frozenset({"history"})), ITEM, grown, KEYS) == []


def test_a_key_that_changes_is_a_delete_and_a_put():
    by_status = Index("by-status", ("status",), "KEYS_ONLY")
    moved = Image(ITEM.sizes, {**ITEM.values, "status": "SENT"})
    before = Image(ITEM.sizes, {**ITEM.values, "status": "PENDING"})
    writes = index_writes(by_status, Command("move", set=frozenset({"status"})), before, moved, KEYS)
    assert [(w.kind, w.partition) for w in writes] == [(DELETE, "PENDING"), (PUT, "SENT")]


def test_a_refused_first_write_costs_the_table_and_no_index():
    twice = Command("despatch", set=frozenset({"status"}), writes=2)
    step = step_writes(Stack(DOCUMENT).table(), twice, SENT, SENT)
    assert (step.table_units, step.refused_units) == (4, 2)  # 1,175 bytes: 2 units tried and refused, 2 written
    assert step.index_units("by-status") == 4  # a delete and a put of 1,175 bytes, 2 each; none for the refused try
    assert step.index_units("by-seller") == 0


def test_a_derived_key_previews_an_index_the_store_does_not_feed_yet():
    """by-seller-status keyed on an attribute no command writes: said, and previewed with --derive."""
    document = copy.deepcopy(DOCUMENT)
    document["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"] = [
        {
            "IndexName": "by-seller-status",
            "KeySchema": [_key("seller_status"), _key("created_at", "RANGE")],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
        }
    ]
    spec = Stack(document).table()
    assert unwritten_keys(spec, TABLE) == [
        "index by-seller-status: no command in commands.toml writes its key seller_status"
    ]
    table, measured = derive(TABLE, MEASURED, {"seller_status": ("seller_id", "status")})
    assert unwritten_keys(spec, table) == []
    assert measured.image("despatched/send").values["seller_status"] == "{seller}#SENT"
    # create: a put of seller_status 13 + "{seller}#PENDING" 16, created_at 5, order_id 30, status 20 = 84 bytes;
    # send: the key moves, a delete and a put.
    assert lifecycle(spec, table, measured, "despatched") == {"table": 3, "by-seller-status": 3}


# -- reads, durations, the capture ------------------------------------------------------------------------


def test_read_units():
    assert query_units(11, 400) == 1.0  # 4,400 bytes: 2 units of 4 KB, halved (eventually consistent)
    assert query_units(1, 900, consistent=True) == 1
    assert query_units(0, 0) == 0.5  # a Query that finds nothing still reads


@pytest.mark.parametrize("memory", [128, 512, 1769, 3008])
def test_a_duration_is_billed_as_the_bench_bills_it(memory):
    duration = Duration("x", "cancel")
    measured = {"cancel": _duration("cancel", "CancelOrderFunction", 2.4, 7.3)}
    inputs = Inputs(Stack(DOCUMENT), TABLE, MEASURED, AWS, measured, frozenset())
    assert billed_ms(inputs, duration, memory) == bench_cost.Duration(2.4, 7.3).at(memory)
    assert billed_ms(inputs, duration, memory, writes=2) == math.ceil(
        2.4 * max(1, 1769 / memory) + 2 * 7.3
    )  # a second write waits again


def test_the_capture_reads_top_level_attributes_off_an_update_expression():
    params = {
        "UpdateExpression": (
            "SET version = version + :one, history = list_append(history, :entry), #request.#s = :v, "
            "#request.decided_at = :now REMOVE #queue, escalation_due ADD delivered :c"
        ),
        "ExpressionAttributeNames": {"#request": "cancellation_request", "#s": "status", "#queue": "queue"},
    }
    assert attributes_written("UpdateItem", params) == {
        "set": ["cancellation_request", "history", "version"],
        "remove": ["escalation_due", "queue"],
        "add": ["delivered"],
    }
    assert attributes_written("PutItem", {"Item": {"b": {}, "a": {}}}) == {"put": ["a", "b"]}


# -- the real data files, end to end ---------------------------------------------------------------------


def test_make_capacity_reads_the_repository_and_names_a_first_ceiling(capsys):
    assert main(["--profile", "small"]) == 0
    printed = capsys.readouterr().out
    assert "First to saturate: " in printed
    assert "## Write units per order lifecycle" in printed
    assert "cost per million orders" in printed


def test_the_profiles_are_one_shape_at_three_loads():
    profiles = data.profiles()
    assert [profile.orders_per_second for profile in profiles.values()] == [10, 100, 1000]
    assert {profile.largest_seller_share for profile in profiles.values()} == {0.3}
    assert {profile.sellers / profile.orders_per_second for profile in profiles.values()} == {5}
