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


def test_the_stacks_own_clients_get_the_answers_a_client_gets_over_http():
    import boto3
    import botocore.handlers
    from botocore.exceptions import ClientError

    from infra.local.moto_server import _InProcess

    with LocalStack(port=0, moto_port=0, portal_port=None, seed_demo=False) as stack:
        handlers = botocore.handlers.BUILTIN_HANDLERS
        in_process = next(entry[1] for entry in handlers if isinstance(entry[1], _InProcess))
        calls = []

        def counted(request, **kwargs):
            answer = in_process(request, **kwargs)
            calls.append(answer is not None)
            return answer

        def client(service: str, over_http: bool):
            made = boto3.session.Session().client(service, endpoint_url=stack.aws_url)
            made.meta.events.unregister("before-send", in_process)
            if not over_http:
                made.meta.events.register("before-send", counted)
            return made

        def answers(question, over_http: bool):
            try:
                answer = question(client("dynamodb", over_http), client("sqs", over_http))
            except ClientError as refused:
                return "refused", refused.response["Error"], refused.response["ResponseMetadata"]["HTTPStatusCode"]
            return "answered", {name: value for name, value in answer.items() if name != "ResponseMetadata"}

        table = os.environ["TABLE_NAME"]
        portal = Portal(stack.api_url, "S-same-answers")
        order_id = portal.create_order()["order_id"]
        questions = [
            lambda dynamodb, _: dynamodb.get_item(TableName=table, Key={"order_id": {"S": order_id}}),
            lambda dynamodb, _: dynamodb.get_item(TableName="no-such-table", Key={"order_id": {"S": order_id}}),
            lambda dynamodb, _: dynamodb.update_item(
                TableName=table,
                Key={"order_id": {"S": order_id}},
                UpdateExpression="SET #s = :s",
                ConditionExpression="#s = :other",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "X"}, ":other": {"S": "NOT-THIS"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
            lambda _, sqs: sqs.list_queues(QueueNamePrefix="orders-local"),
            lambda _, sqs: sqs.get_queue_url(QueueName="no-such-queue"),
        ]
        for question in questions:
            assert answers(question, over_http=False) == answers(question, over_http=True)
        assert calls == [True] * len(questions)  # each answered in process, none sent on
