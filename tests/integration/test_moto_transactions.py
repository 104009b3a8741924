"""infra/local/moto_dynamodb.py's rollback of a failed TransactWriteItems: the items it names and the stream
records it wrote put back, as moto's copies of whole tables put them back (over generated transactions),
at a cost that does not grow with the table, and with the table's stream still the one its readers read.

A module of its own: its tests share one mock_aws (each example makes its own tables), which the `aws`
fixture's tests of another module must not find still running.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.local import moto_dynamodb

KEYS = st.sampled_from(["k1", "k2", "k3"])
SORTS = st.sampled_from(["a", "b"])
CONDITIONS = st.sampled_from([None, "attribute_exists(n)", "attribute_not_exists(n)", "n < :ten"])


@st.composite
def transactions(draw) -> list[dict]:
    """TransactWriteItems' items over two tables (one with a sort key) and a few keys: puts, updates (one
    that fails on an item without `n`), deletes and condition checks, each with or without a condition;
    a key named twice, and an item past the size limit, now and then."""
    operations = []
    for _ in range(draw(st.integers(1, 4))):
        ranged = draw(st.booleans())
        key = {"pk": {"S": draw(KEYS)}, **({"sk": {"S": draw(SORTS)}} if ranged else {})}
        kind = draw(st.sampled_from(["Put", "Update", "Delete", "ConditionCheck"]))
        condition = draw(CONDITIONS)
        operation: dict = {"TableName": "ranged" if ranged else "plain"}
        if kind == "Put":
            size = draw(st.sampled_from([1, 1, 1, 410_000]))
            operation["Item"] = {**key, "n": {"N": str(draw(st.integers(0, 20)))}, "pad": {"S": "x" * size}}
        else:
            operation["Key"] = key
        if kind == "Update":
            operation["UpdateExpression"] = draw(st.sampled_from(["SET n = n + :one", "SET n = :one", "REMOVE n"]))
        if kind == "ConditionCheck" and condition is None:
            condition = "attribute_exists(n)"
        values = {":one": {"N": "1"}} if kind == "Update" and ":one" in operation["UpdateExpression"] else {}
        if condition:
            operation["ConditionExpression"] = condition
            operation["ReturnValuesOnConditionCheckFailure"] = draw(st.sampled_from(["NONE", "ALL_OLD"]))
            values |= {":ten": {"N": "10"}} if ":ten" in condition else {}
        if values:
            operation["ExpressionAttributeValues"] = values
        operations.append({kind: operation})
    return operations


@pytest.fixture(scope="module")
def transaction_tables():
    """moto, in process, for the module's examples: each example makes its own two tables."""
    from moto import mock_aws

    moto_dynamodb.patch_dynamodb()
    with mock_aws():
        yield boto3.client("dynamodb", region_name="eu-west-2")


def _streamed_table(client, name: str, sorted_by: str | None = None) -> str:
    """A table keyed by `pk` (and `sorted_by`), its stream with both images: the stream's ARN."""
    keys = [("pk", "HASH")] + ([(sorted_by, "RANGE")] if sorted_by else [])
    return client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in keys],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]


def _tables_after(client, prefix: str, seeded: list[dict], transactions: list[list[dict]]) -> list:
    """What each transaction answered, and every item and stream record of both tables at the end."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    _streamed_table(client, f"{prefix}plain")
    _streamed_table(client, f"{prefix}ranged", sorted_by="sk")
    for item in seeded:
        client.put_item(TableName=f"{prefix}{'ranged' if 'sk' in item else 'plain'}", Item=item)
    answers = []
    for items in transactions:
        named = [
            {kind: {**operation, "TableName": prefix + operation["TableName"]}}
            for kind, operation in (next(iter(entry.items())) for entry in items)
        ]
        try:
            client.transact_write_items(TransactItems=named)
            answers.append("written")
        except ClientError as error:
            answers.append((error.response["Error"]["Code"], error.response.get("CancellationReasons")))
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"]
    state = []
    for name in ("plain", "ranged"):
        table = backend.get_table(f"{prefix}{name}")
        present = {
            repr(key): sorted(entries) if isinstance(entries, dict) else None for key, entries in table.items.items()
        }
        records = [
            {part: record.record["dynamodb"].get(part) for part in ("Keys", "NewImage", "OldImage", "SequenceNumber")}
            | {"eventName": record.record["eventName"]}
            for record in table.stream_shard.items
        ]
        state.append(([item.to_json() for item in table.all_items()], present, records))
    return [answers, state]


@settings(max_examples=60, deadline=None)
@given(
    seeded=st.lists(
        st.builds(
            lambda key, sort, n: {"pk": {"S": key}, **({"sk": {"S": sort}} if sort else {}), **n},
            KEYS,
            st.none() | SORTS,
            st.sampled_from([{}, {"n": {"N": "3"}}, {"n": {"N": "12"}}]),
        ),
        max_size=4,
    ),
    written=st.lists(transactions(), min_size=1, max_size=5),
)
def test_a_transaction_leaves_the_tables_as_motos_own_leaves_them(transaction_tables, seeded, written):
    from moto.dynamodb.models import DynamoDBBackend

    client = transaction_tables
    prefix = f"t{uuid.uuid4().hex[:12]}-"
    ours = _tables_after(client, f"ours-{prefix}", seeded, written)
    quick = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = moto_dynamodb.moto_transact_write_items
    try:
        theirs = _tables_after(client, f"moto-{prefix}", seeded, written)
    finally:
        DynamoDBBackend.transact_write_items = quick
    assert _renamed(ours, f"ours-{prefix}") == _renamed(theirs, f"moto-{prefix}")


def _renamed(found: list, prefix: str) -> str:
    return json.dumps(found, sort_keys=True, default=str).replace(prefix, "")


def test_a_transactions_copies_do_not_grow_with_the_table(transaction_tables, monkeypatch):
    from moto.dynamodb.models.dynamo_type import DynamoType

    client = transaction_tables
    copies = []
    deepcopy = DynamoType.__deepcopy__
    monkeypatch.setattr(DynamoType, "__deepcopy__", lambda self, memo=None: copies.append(1) or deepcopy(self, memo))
    counted = []
    for size in (1, 300):
        table = f"grown-{size}-{uuid.uuid4().hex[:8]}"
        _streamed_table(client, table)
        for number in range(size):
            client.put_item(TableName=table, Item={"pk": {"S": f"k{number}"}, "n": {"N": "1"}})
        copies.clear()
        with pytest.raises(ClientError, match="TransactionCanceled"):  # the second write's condition fails
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": "k0"}, "n": {"N": "2"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": {"pk": {"S": "new"}},
                            "ConditionExpression": "attribute_exists(n)",
                        }
                    },
                ]
            )
        counted.append(len(copies))
        assert client.get_item(TableName=table, Key={"pk": {"S": "k0"}})["Item"]["n"] == {"N": "1"}
    assert counted[0] == counted[1], counted


def test_a_stream_read_from_before_a_failed_transaction_goes_on_to_the_next_write_and_not_the_failed_one(
    transaction_tables,
):
    # moto's own rollback put a copy of the table in its place, with a new stream: an iterator taken before
    # read on in the old one, where the failed put was, and never saw the next write.
    client = transaction_tables
    table = f"streamed-{uuid.uuid4().hex[:8]}"
    arn = _streamed_table(client, table)
    streams = boto3.client("dynamodbstreams", region_name="eu-west-2")
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "failed"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "none"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    client.put_item(TableName=table, Item={"pk": {"S": "written"}})
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [(record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"]) for record in records] == [
        ("INSERT", "written")
    ]
