"""infra/local/moto_dynamodb.py's quick results: the bodies moto's own serializer would have written,
for DynamoDB's item results and the stream's GetRecords; and its walks of an item's value (read, sized,
copied) and its projections: moto's own answers, over generated values.

Every DynamoDB request the store and the notifications table make, and a few they do not (a scan,
binary values, which take moto's way), are answered through both writers; the bodies, statuses and
content types must be the same.
"""

from __future__ import annotations

import copy
import json
import os

import boto3
import pytest
from hypothesis import example, given, settings
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


NAMES = st.sampled_from(["a", "b", "status", "items", "x.y"]) | st.text(min_size=1, max_size=4)


@st.composite
def items_and_projections(draw) -> tuple[dict, list[list[str]]]:
    """An item, and what to project of it: mostly as an index projects (its own names, one part each, in any
    order, some twice, and names it lacks), else paths of up to three parts, into lists too."""
    attributes = draw(st.dictionaries(NAMES, attribute_values(), max_size=8))
    own = st.sampled_from(sorted(attributes)) if attributes else NAMES
    name = own | own | NAMES
    if draw(st.integers(0, 3)):
        return attributes, draw(st.lists(name.map(lambda kept: [kept]), max_size=20))
    part = name | st.sampled_from(["a[0]", "b[1]", "items[2]"])
    return attributes, draw(st.lists(st.lists(part, min_size=1, max_size=3), max_size=6))


INDEX_LIKE = (
    {"b": {"S": "1"}, "a": {"N": "2"}, "c": {"M": {"d": {"L": [{"S": "e"}]}}}, "f": {"SS": ["g", "h"]}},
    [["c"], ["a"], ["f"], ["b"], ["a"], ["missing"]],  # not in the item's order, one twice, one absent
)


@settings(max_examples=200, deadline=None)
@given(items_and_projections())
@example(INDEX_LIKE)
def test_an_item_is_projected_as_motos_own_projects_it(case):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    attributes, projection = case
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
