"""LocalStack in-process, as a test or a script would use it: free ports, a clean stop, nothing left behind."""

from __future__ import annotations

import os

import pytest

from infra.local.stack import LocalStack
from tests.support.local_stack import Portal, Warehouse


def test_a_local_stack_in_process_serves_the_api_and_leaves_the_process_as_it_was():
    import botocore.handlers

    environment, handlers = dict(os.environ), list(botocore.handlers.BUILTIN_HANDLERS)

    # Given a stack on free ports, without the demo data
    with LocalStack(port=0, moto_port=0, portal_port=0, seed_demo=False) as stack:
        assert stack.port != 0 and stack.moto_port != 0
        # When a seller sends an order and the warehouse takes it
        portal = Portal(stack.api_url, "S-in-process")
        order_id = portal.create_order()["order_id"]
        moved = Warehouse(stack.api_url).move(order_id, "SENT_TO_WAREHOUSE")
        # Then the API answers as deployed, and the handlers saw the local environment
        assert moved.status_code == 200
        assert os.environ["AWS_ENDPOINT_URL"] == stack.aws_url
        # And the stack's own clients are answered in process, by the same server that answers the others
        assert len(botocore.handlers.BUILTIN_HANDLERS) == len(handlers) + 1
        assert portal.request("GET", "/orders").json()["orders"][0]["order_id"] == order_id
        # And there is only ever one stack per process (moto's state is per process)
        with pytest.raises(RuntimeError):
            LocalStack(port=0, moto_port=0, portal_port=0).start()

    # Once stopped, the process's environment is what it was, and a client made now sends over HTTP again
    assert dict(os.environ) == environment
    assert handlers == botocore.handlers.BUILTIN_HANDLERS


def test_the_stacks_own_clients_get_the_answers_a_client_gets_over_http(monkeypatch):
    import boto3
    import botocore.handlers
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from moto.core.botocore_stubber import MockRawResponse
    from moto.sqs.models import SQSBackend

    from infra.local.moto_server import _InProcess

    with LocalStack(port=0, moto_port=0, portal_port=None, seed_demo=False) as stack:
        handlers = botocore.handlers.BUILTIN_HANDLERS
        in_process = next(entry[1] for entry in handlers if isinstance(entry[1], _InProcess))
        went: list[str] = []  # how each answer came: in process, or over HTTP

        def client(service: str, over_http: bool):
            made = boto3.session.Session().client(
                service, endpoint_url=stack.aws_url, config=Config(retries={"total_max_attempts": 2})
            )
            if over_http:
                made.meta.events.unregister("before-send", in_process)

            def came(http_response, **_):
                went.append("in process" if isinstance(http_response.raw, MockRawResponse) else "over HTTP")

            made.meta.events.register("after-call", came)
            return made

        def answers(question, over_http: bool):
            went.clear()
            try:
                answer = question(*(client(service, over_http) for service in ("dynamodb", "sqs", "s3")))
            except ClientError as refused:
                answer = {"refused": refused.response["Error"], "status": refused.response["ResponseMetadata"]}
                answer["status"] = answer["status"]["HTTPStatusCode"]
            assert set(went) == {"over HTTP" if over_http else "in process"}, went
            return {name: value for name, value in answer.items() if name != "ResponseMetadata"}  # its ids differ

        def moto_fails(*_):
            raise RuntimeError("a bug in moto")

        table = os.environ["TABLE_NAME"]
        portal = Portal(stack.api_url, "S-same-answers")
        order_id = portal.create_order()["order_id"]
        # S3 is the stack's only GET with a query string, and its metadata keeps a header name's underscore
        stack_s3 = client("s3", over_http=False)
        stack_s3.create_bucket(Bucket="same", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        stack_s3.put_object(Bucket="same", Key="a/b c%2F/é", Body=b"x")
        questions = [
            lambda dynamodb, sqs, s3: dynamodb.get_item(TableName=table, Key={"order_id": {"S": order_id}}),
            lambda dynamodb, sqs, s3: dynamodb.get_item(TableName="no-such-table", Key={"order_id": {"S": order_id}}),
            lambda dynamodb, sqs, s3: dynamodb.update_item(
                TableName=table,
                Key={"order_id": {"S": order_id}},
                UpdateExpression="SET #s = :s",
                ConditionExpression="#s = :other",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "X"}, ":other": {"S": "NOT-THIS"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
            lambda dynamodb, sqs, s3: sqs.list_queues(QueueNamePrefix="orders-local"),
            lambda dynamodb, sqs, s3: sqs.get_queue_url(QueueName="no-such-queue"),
            lambda dynamodb, sqs, s3: s3.list_objects_v2(Bucket="same", Prefix="a/b c%2F/é"),
            lambda dynamodb, sqs, s3: s3.head_object(Bucket="same", Key="a/b c%2F/é"),
            lambda dynamodb, sqs, s3: [
                s3.put_object(Bucket="same", Key="meta", Body=b"x", Metadata={"a_b": "1", "c-d": "2"}),
                s3.head_object(Bucket="same", Key="meta"),
            ][1]["Metadata"],
        ]
        for question in questions:
            assert answers(question, over_http=False) == answers(question, over_http=True)

        # And a bug in moto is a 500 either way (the server's app lets it out, werkzeug's server answers 500)
        monkeypatch.setattr(SQSBackend, "list_queues", moto_fails)
        failed = answers(lambda dynamodb, sqs, s3: sqs.list_queues(), over_http=False)
        assert failed["status"] == 500
        assert failed == answers(lambda dynamodb, sqs, s3: sqs.list_queues(), over_http=True)
