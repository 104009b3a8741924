"""infra/local/moto_dynamodb.py's quick results: the bodies moto's own serializer would have written,
for DynamoDB's item results and the stream's GetRecords; and its walks of an item's value (read, sized,
copied), its projections and its transactions' rollbacks: moto's own answers, over generated values.

Every DynamoDB request the store and the notifications table make, and a few they do not (a scan,
binary values, which take moto's way), are answered through both writers; the bodies, statuses and
content types must be the same.
"""

from __future__ import annotations

import copy
import json
import os
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.local import moto_dynamodb


@pytest.fixture
def both_ways(aws, monkeypatch):
    """Every item result written the quick way and moto's way: the pairs, for the test to compare."""
    from moto.dynamodb.responses import DynamoResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    quick = DynamoResult.execute_result
    pairs: list[tuple[tuple, tuple]] = []

    def compared(self, context):
        answer = quick(self, context)
        pairs.append((answer, moto_dynamodb.moto_execute_result(self, context)))
        return answer

    monkeypatch.setattr(DynamoResult, "execute_result", compared)
    records = DynamoDBStreamsHandler.get_records

    def compared_records(self):
        result = records(self)
        monkeypatch.setattr(type(result), "execute_result", compared, raising=True)
        return result

    monkeypatch.setattr(DynamoDBStreamsHandler, "get_records", compared_records)
    return pairs


def test_every_item_result_is_the_body_motos_serializer_writes(both_ways):
    client = boto3.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    item = {
        "order_id": {"S": "ord_" + "a" * 26},
        "seller_id": {"S": "S-1"},
        "created_at": {"S": "2026-12-01T10:00:00.000000Z"},
        "status": {"S": "PENDING"},
        "seller_status": {"S": "3:S-1#PENDING"},
        "version": {"N": "3"},
        "ratio": {"N": "0.25"},
        "flag": {"BOOL": True},
        "nothing": {"NULL": True},
        "items": {"L": [{"M": {"sku": {"S": "TSHIRT-RED-M"}, "quantity": {"N": "2"}}}]},
        "delivered": {"SS": ["ch_a", "ch_b"]},
        "counts": {"NS": ["1", "2"]},
        "text": {"S": 'quotes " and \\ and ünïcödé and \u202e'},
    }
    key = {"order_id": item["order_id"]}
    client.put_item(TableName=table, Item=item)
    client.put_item(TableName=table, Item=item, ReturnValues="ALL_OLD")
    client.get_item(TableName=table, Key=key, ConsistentRead=True)
    client.get_item(TableName=table, Key={"order_id": {"S": "ord_" + "b" * 26}})  # none
    client.query(
        TableName=table,
        IndexName="seller-orders",
        KeyConditionExpression="seller_id = :s",
        ExpressionAttributeValues={":s": {"S": "S-1"}},
        Limit=1,
    )
    client.query(
        TableName=table,
        IndexName="seller-orders",
        KeyConditionExpression="seller_id = :s",
        ExpressionAttributeValues={":s": {"S": "S-1"}},
        Select="COUNT",
    )
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET version = version + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    client.scan(TableName=table)
    client.batch_get_item(RequestItems={table: {"Keys": [key]}})
    client.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}])
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(order_id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    client.put_item(TableName=table, Item={**item, "blob": {"B": b"\x00\xff"}})  # bytes: moto's own way
    client.get_item(TableName=table, Key=key)
    client.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    streams = boto3.client("dynamodbstreams")
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert len(records) >= 5 and records[0]["dynamodb"]["NewImage"]["order_id"] == item["order_id"]

    assert len(both_ways) >= 12
    for (status, headers, body), (moto_status, moto_headers, moto_body) in both_ways:
        assert status == moto_status
        assert headers["Content-Type"] == moto_headers["Content-Type"]
        assert json.loads(body) == json.loads(moto_body)


def attribute_values() -> st.SearchStrategy[dict]:
    """DynamoDB attribute values of every type, nested as an order's history and lines are (and deeper)."""
    text = st.text(max_size=12)
    number = st.from_regex(r"-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,8})?", fullmatch=True)
    binary = st.binary(max_size=8) | st.sampled_from(["AP8=", "aGk="])  # moto keeps a request's binary base64
    binaries = st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=3, unique=True)
    scalars = st.one_of(
        st.builds(lambda v: {"S": v}, text),
        st.builds(lambda v: {"N": v}, number),
        st.builds(lambda v: {"B": v}, binary),
        st.builds(lambda v: {"BOOL": v}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda v: {"SS": v}, st.lists(text, min_size=1, max_size=3, unique=True)),
        st.builds(lambda v: {"NS": v}, st.lists(number, min_size=1, max_size=3, unique=True)),
        st.builds(lambda v: {"BS": v}, binaries),
    )
    return st.recursive(
        scalars,
        lambda members: (
            st.builds(lambda v: {"L": v}, st.lists(members, max_size=4))
            | st.builds(lambda v: {"M": v}, st.dictionaries(text, members, max_size=4))
        ),
        max_leaves=40,
    )


@settings(max_examples=300, deadline=None)
@given(attribute_values())
def test_the_quick_walks_of_a_value_answer_as_motos_own(value):
    from moto.dynamodb.models.dynamo_type import DynamoType

    moto_dynamodb.patch_dynamodb()
    quick = (DynamoType.to_regular_json, DynamoType.size, DynamoType.__deepcopy__)
    ours = DynamoType(value)
    read, size, copied = ours.to_regular_json(), ours.size(), copy.deepcopy(ours)
    try:  # moto's own, all the way down (its methods call themselves on the members)
        DynamoType.to_regular_json = moto_dynamodb.moto_to_regular_json
        DynamoType.size = moto_dynamodb.moto_size
        DynamoType.__deepcopy__ = moto_dynamodb.moto_deepcopy
        theirs = DynamoType(value)
        assert repr(read) == repr(theirs.to_regular_json())  # repr: the maps' keys in the same order too
        assert size == theirs.size()
        assert repr(copied) == repr(copy.deepcopy(theirs))
    finally:
        DynamoType.to_regular_json, DynamoType.size, DynamoType.__deepcopy__ = quick

    # And the copy shares nothing that can change: emptying its lists and maps leaves the original whole
    pending = [copied]
    while pending:
        member = pending.pop()
        if member.is_list() or member.is_map():
            pending.extend(member.value.values() if member.is_map() else member.value)
        if isinstance(member.value, list | dict):  # a set's members too
            member.value.clear()
    assert ours.to_regular_json() == read


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), attribute_values(), max_size=12))
def test_an_item_is_built_as_motos_own_builds_it(attributes):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_dynamodb.patch_dynamodb()
    key = DynamoType({"S": "ord_1"})
    ours = Item(key, None, attributes)
    theirs = object.__new__(Item)
    moto_dynamodb.moto_item_init(theirs, key, None, attributes)
    assert repr(ours) == repr(theirs) and ours.size() == theirs.size()


NAMES = st.sampled_from(["a", "b", "status", "items", "x.y", "missing"]) | st.text(min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(NAMES, attribute_values(), max_size=8),
    st.lists(
        st.lists(NAMES, min_size=1, max_size=1)  # an index's kept names: one part each
        | st.lists(NAMES | st.sampled_from(["a[0]", "b[1]", "items[2]"]), min_size=1, max_size=3),  # paths
        max_size=6,
    ),
)
def test_an_item_is_projected_as_motos_own_projects_it(attributes, projection):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_dynamodb.patch_dynamodb()
    item = Item(DynamoType({"S": "ord_1"}), None, attributes)

    def projected(project):  # repr: the attributes in the same order too; moto fails a path into a scalar
        try:
            return repr(project(item, projection))
        except Exception as error:
            return type(error).__name__

    assert projected(Item.project) == projected(moto_dynamodb.moto_project)
    assert repr(item) == repr(Item(DynamoType({"S": "ord_1"}), None, attributes))  # the item itself unchanged


def test_an_item_past_motos_size_limit_is_refused_as_moto_refuses_it():
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_dynamodb.patch_dynamodb()
    key = DynamoType({"S": "ord_1"})
    for size, refused in ((moto_dynamodb.MOTO_ITEM_SIZE_LIMIT - 10, False), (moto_dynamodb.MOTO_ITEM_SIZE_LIMIT, True)):
        attributes = {"a": {"S": "x" * (size // 2)}, "b": {"S": "y" * (size - size // 2 - 2)}}  # keys a, b: 2 bytes
        for build in (Item, lambda *arguments: moto_dynamodb.moto_item_init(object.__new__(Item), *arguments)):
            if refused:
                with pytest.raises(ItemSizeTooLarge):
                    build(key, None, {**attributes, "c": {"S": "z"}})
            else:
                build(key, None, attributes)


def test_a_member_two_lists_share_stays_shared_in_the_copy_as_motos_own_copy_keeps_it():
    # moto's list_append puts the second list's members into the first as they are: one node, two places
    from moto.dynamodb.models.dynamo_type import DynamoType

    moto_dynamodb.patch_dynamodb()
    shared = DynamoType({"M": {"x": {"N": "1"}}})
    item = DynamoType({"M": {"a": {"L": []}, "b": {"L": []}}})
    item.value["a"].value.append(shared)
    item.value["b"].value.append(shared)
    copied = copy.deepcopy(item)
    assert copied.value["a"].value[0] is copied.value["b"].value[0] is not shared
    assert repr(copied) == repr(item)


def _words() -> st.SearchStrategy[str]:
    """Names, placeholders, paths with indexes, keywords and functions, and a few bytes no expression may hold."""
    name = st.sampled_from(["status", "#s", "#items", "items[1]", "a.b", "history", "version", "x_y-z"])
    value = st.sampled_from([":v", ":now", ":seller0", ":list"])
    word = st.sampled_from(
        ["AND", "or", "NOT", "BETWEEN", "IN", "attribute_exists", "attribute_not_exists", "size", "begins_with"]
    )
    odd = st.sampled_from(["(", ")", ",", "=", "<>", "<=", ">", "  ", "[", "]", "!", "é", "\t", "..", "[x]"])
    return st.lists(name | value | word | odd, min_size=1, max_size=14).map(" ".join)


def _update_expressions() -> st.SearchStrategy[str]:
    path = st.sampled_from(["#s", "history", "#items[0].#q", "a.b", "updated_at", "list_x"])
    value = st.sampled_from([":v", ":now", ":one", ":event"])
    operand = value | path | st.builds("list_append({}, {})".format, path, value)
    operand |= st.builds("if_not_exists({}, {})".format, path, value) | st.builds("{} + {}".format, path, value)
    clause = (
        st.lists(st.builds("{} = {}".format, path, operand), min_size=1, max_size=3).map(
            lambda actions: "SET " + ", ".join(actions)
        )
        | st.lists(path, min_size=1, max_size=2).map(lambda paths: "REMOVE " + ", ".join(paths))
        | st.builds("ADD {} {}".format, path, value)
        | st.builds("DELETE {} {}".format, path, value)
    )
    return st.lists(clause, min_size=1, max_size=3).map(" ".join) | _words()


def _tree(node) -> object:
    """An update expression's tree as plain values, to compare two trees (moto's nodes have no equality)."""
    from moto.dynamodb.parsing.ast_nodes import Node

    if isinstance(node, Node):
        return (type(node).__name__, tuple(_tree(child) for child in node.children or ()))
    return repr(node)


def _outcome(parse, text):
    try:
        return "parsed", parse(text)
    except Exception as refused:  # moto's own refusals, compared by kind and message
        return type(refused).__name__, str(refused)


@settings(max_examples=400, deadline=None)
@given(_update_expressions())
def test_an_update_expression_parsed_once_is_the_tree_moto_parses_and_is_not_changed_by_a_write(expression):
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    moto_dynamodb.patch_dynamodb()
    ours, again = _outcome(UpdateExpressionParser.make, expression), _outcome(UpdateExpressionParser.make, expression)
    theirs = _outcome(moto_dynamodb.moto_update_parse, expression)
    if ours[0] != "parsed":
        assert ours == again == theirs
        return
    assert again[1] is ours[1]  # parsed once
    assert _tree(ours[1]) == _tree(theirs[1])


def test_a_kept_update_tree_stays_as_parsed_after_writes_that_use_it(aws):
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    client = boto3.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    expression = "SET #h = list_append(if_not_exists(#h, :empty), :event), #v = #v + :one REMOVE #gone"
    tree = _tree(UpdateExpressionParser.make(expression))
    key = {"order_id": {"S": "ord_kept"}}
    client.put_item(TableName=table, Item={**key, "v": {"N": "0"}, "gone": {"S": "x"}})
    for number in range(3):
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeNames={"#h": "history", "#v": "v", "#gone": "gone"},
            ExpressionAttributeValues={":empty": {"L": []}, ":event": {"L": [{"N": str(number)}]}, ":one": {"N": "1"}},
        )
    assert _tree(UpdateExpressionParser.make(expression)) == tree
    item = client.get_item(TableName=table, Key=key)["Item"]
    assert item["history"] == {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]} and item["v"] == {"N": "3"}


@settings(max_examples=400, deadline=None)
@given(_words())
def test_a_condition_split_into_words_once_gives_motos_words_and_new_nodes_each_time(expression):
    from moto.dynamodb.comparisons import ConditionExpressionParser

    moto_dynamodb.patch_dynamodb()

    def lexed(lex):
        return lambda text: list(lex(ConditionExpressionParser(text, None, None)))

    ours = _outcome(lexed(ConditionExpressionParser._lex_condition_expression), expression)
    again = _outcome(lexed(ConditionExpressionParser._lex_condition_expression), expression)
    theirs = _outcome(lexed(moto_dynamodb.moto_condition_lex), expression)
    assert ours == again == theirs
    if ours[0] == "parsed":
        pairs = zip(ours[1], again[1], strict=True)
        assert all(mine is not yours and mine.children is not yours.children for mine, yours in pairs)


# -- a failed transaction puts back what it wrote ----------------------------------------------------------

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


def _tables_after(client, prefix: str, seeded: list[dict], transactions: list[list[dict]]) -> list:
    """What each transaction answered, and every item and stream record of both tables at the end."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    for name, keys in (("plain", [("pk", "HASH")]), ("ranged", [("pk", "HASH"), ("sk", "RANGE")])):
        client.create_table(
            TableName=f"{prefix}{name}",
            KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in keys],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification=stream,
        )
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
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
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
