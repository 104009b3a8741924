"""infra/local/moto_dynamodb.py's quick results: the bodies moto's own serializer would have written,
for DynamoDB's item results and the stream's GetRecords.

Every DynamoDB request the store and the notifications table make, and a few they do not (a scan,
binary values, which take moto's way), are answered through both writers; the bodies, statuses and
content types must be the same.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest

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
