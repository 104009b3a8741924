"""Channel create and delete when DynamoDB cancels their transaction (docs/api.md §7), through the route.

Both update the seller's channel counter in a transaction with the channel's own item. Real DynamoDB
cancels a transaction with the reason `TransactionConflict` when another transaction on one of its
items is in flight (twenty racing creates of one seller do that), and with `ThrottlingError` or
`ProvisionedThroughputExceeded` when throttled; moto never does, so botocore's Stubber answers for
DynamoDB here, request by request, behind a REST event into NotificationChannelsFunction's handler.
A conflict is retried a few times within a small budget, then answered 503 with Retry-After; a failed
condition is the rules' answer (409 CHANNEL_LIMIT, 404 CHANNEL_NOT_FOUND), at once.
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from orders import settings, transactions
from orders.handlers import notification_channels
from tests.support.events import LambdaContext, rest_event

SELLER = "S-TX"
CHANNEL_ID = "ch_" + "a" * 26
RETRYABLE = ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]


@pytest.fixture
def local_webhooks(aws, monkeypatch):
    monkeypatch.setenv("ALLOW_LOCAL_WEBHOOKS", "true")
    settings.reset()
    yield
    settings.reset()


@pytest.fixture
def dynamodb(local_webhooks):
    """DynamoDB as the handler's own client reaches it, answered by the test, request by request."""
    with Stubber(settings.dynamodb()) as stubber:
        yield stubber


def cancelled(dynamodb: Stubber, *codes: str) -> None:
    """The next TransactWriteItems is cancelled, with these reasons item by item (as DynamoDB lists them)."""
    dynamodb.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message=f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


def written(dynamodb: Stubber) -> None:
    dynamodb.add_response("transact_write_items", {})


def create() -> dict:
    event = rest_event("POST", "/notification-channels", body={"url": "http://localhost:9/hook"}, seller_id=SELLER)
    return notification_channels.handler(event, LambdaContext(function_name="NotificationChannelsFunction"))


def delete(channel_id: str = CHANNEL_ID) -> dict:
    event = rest_event(
        "DELETE",
        "/notification-channels/{channel_id}",
        path_parameters={"channel_id": channel_id},
        seller_id=SELLER,
    )
    return notification_channels.handler(event, LambdaContext(function_name="NotificationChannelsFunction"))


def problem(response: dict) -> str:
    return json.loads(response["body"])["code"]


# -- create: the counter is the transaction's first item, the channel's put the second --------------


@pytest.mark.parametrize("reason", RETRYABLE)
def test_a_create_whose_transaction_meets_a_conflict_is_retried_and_created(dynamodb, reason):
    cancelled(dynamodb, reason, "None")
    cancelled(dynamodb, "None", reason)
    written(dynamodb)

    response = create()

    assert response["statusCode"] == 201, response["body"]
    assert json.loads(response["body"])["secret"].startswith("whsec_")
    dynamodb.assert_no_pending_responses()


def test_a_create_that_meets_a_conflict_at_every_try_is_503_with_retry_after(dynamodb):
    for _ in range(transactions.BACKOFF.attempts):
        cancelled(dynamodb, "TransactionConflict", "None")

    response = create()

    assert response["statusCode"] == 503, response["body"]
    assert problem(response) == "SERVICE_UNAVAILABLE"
    assert response["multiValueHeaders"]["Retry-After"] == ["1"]
    dynamodb.assert_no_pending_responses()  # every try was a transaction DynamoDB cancelled: nothing written


def test_a_create_past_the_limit_is_409_at_once(dynamodb):
    cancelled(dynamodb, "ConditionalCheckFailed", "None")

    response = create()

    assert (response["statusCode"], problem(response)) == (409, "CHANNEL_LIMIT")
    dynamodb.assert_no_pending_responses()  # one try: a failed condition is an answer, not a conflict


def test_a_failed_condition_beside_a_conflict_is_still_the_rules_answer(dynamodb):
    cancelled(dynamodb, "ConditionalCheckFailed", "TransactionConflict")
    assert create()["statusCode"] == 409
    dynamodb.assert_no_pending_responses()


# -- delete: the channel's delete is the first item, the counter the second -------------------------


@pytest.mark.parametrize("reason", RETRYABLE)
def test_a_delete_whose_transaction_meets_a_conflict_is_retried_and_deleted(dynamodb, reason):
    cancelled(dynamodb, "None", reason)
    written(dynamodb)

    response = delete()

    assert response["statusCode"] == 204, response["body"]
    dynamodb.assert_no_pending_responses()


def test_a_delete_that_meets_a_conflict_at_every_try_is_503_with_retry_after(dynamodb):
    for _ in range(transactions.BACKOFF.attempts):
        cancelled(dynamodb, "None", "TransactionConflict")

    response = delete()

    assert (response["statusCode"], problem(response)) == (503, "SERVICE_UNAVAILABLE")
    assert response["multiValueHeaders"]["Retry-After"] == ["1"]
    dynamodb.assert_no_pending_responses()


def test_a_delete_of_no_such_channel_is_404_at_once(dynamodb):
    cancelled(dynamodb, "ConditionalCheckFailed", "None")

    response = delete()

    assert (response["statusCode"], problem(response)) == (404, "CHANNEL_NOT_FOUND")
    dynamodb.assert_no_pending_responses()


# -- against moto: what a refused or retried transaction leaves in the table ------------------------


def conflicts(count: int):
    """A botocore hook cancelling the next `count` TransactWriteItems of the handler's client with a conflict,
    before they reach moto (as DynamoDB cancels them before writing anything); the rest go through."""
    from botocore.awsrequest import AWSResponse

    left = [count]

    def answer(**_):
        if left[0] == 0:
            return None
        left[0] -= 1
        return (
            AWSResponse("https://dynamodb", 400, {}, None),
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
            },
        )

    return answer


def test_after_a_503_nothing_was_written_and_after_a_retried_create_the_count_moved_once(local_webhooks):
    client = settings.dynamodb()
    client.meta.events.register_first(
        "before-call.dynamodb.TransactWriteItems", conflicts(transactions.BACKOFF.attempts)
    )
    assert create()["statusCode"] == 503
    listed = notification_channels.handler(
        rest_event("GET", "/notification-channels", seller_id=SELLER), LambdaContext()
    )
    assert json.loads(listed["body"])["channels"] == []

    client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", conflicts(2))
    made = [create()["statusCode"] for _ in range(5)]  # the first meets two conflicts, then five are allowed
    assert made == [201] * 5
    sixth = create()
    assert (sixth["statusCode"], problem(sixth)) == (409, "CHANNEL_LIMIT")
