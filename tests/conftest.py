"""Fixtures shared by every layer: fake AWS credentials, moto, the table from template.yaml."""

from __future__ import annotations

import os

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_REGION": "eu-west-2",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "TABLE_NAME": "orders-test",
        "NOTIFICATIONS_TABLE_NAME": "notifications-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PORTAL_ORIGIN": "https://portal.example.com",
    }
)
for variable in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(variable, None)


@pytest.fixture
def aws():
    """moto in-process, with the orders table created from template.yaml's own definition."""
    from moto import mock_aws

    from infra.local.moto_atomic import make_dynamodb_writes_atomic
    from infra.template import NOTIFICATIONS_TABLE, table_definition
    from orders import settings

    make_dynamodb_writes_atomic()
    with mock_aws():
        settings.reset()
        import boto3

        client = boto3.client("dynamodb")
        client.create_table(**table_definition(os.environ["TABLE_NAME"]))
        client.create_table(**table_definition(os.environ["NOTIFICATIONS_TABLE_NAME"], NOTIFICATIONS_TABLE))
        yield
        settings.reset()


@pytest.fixture
def notification_channels(aws, monkeypatch):
    """template.yaml's topic, queues and warehouse subscription in moto, and the notifier's TOPIC_ARN set.

    The notifier's pause before reporting a failed publish is off: retries follow at once.
    """
    from orders import settings
    from tests.support.notifications import create_channels

    channels = create_channels()
    monkeypatch.setenv("TOPIC_ARN", channels.topic_arn)
    monkeypatch.setenv("PUBLISH_RETRY_PAUSE_SECONDS", "0")
    settings.reset()
    yield channels
    settings.reset()
