"""Environment settings, validated once, and the AWS clients made from them (lazily, once)."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field("orders", alias="TABLE_NAME")
    # docs/api.md §12: each despatched order's tracking timeline, apart from the order.
    tracking_table_name: str = Field("tracking", alias="TRACKING_TABLE_NAME")
    topic_arn: str = Field("", alias="TOPIC_ARN")
    # The portal's origin (exact match); the local stack also allows any localhost origin.
    portal_origin: str = Field("http://localhost:5173", alias="PORTAL_ORIGIN")
    allow_localhost_origins: bool = Field(False, alias="ALLOW_LOCALHOST_ORIGINS")
    # Attempts (first try included) the SDK makes at a throttled DynamoDB call before we answer 503.
    dynamodb_max_attempts: int = Field(3, ge=1, le=10, alias="DYNAMODB_MAX_ATTEMPTS")
    retry_after_seconds: int = Field(1, ge=1, alias="RETRY_AFTER_SECONDS")
    # How long the notifier waits after a failed SNS publish before it reports the failure. Lambda
    # retries a failed stream batch back to back: this paces the retries, so that the stream
    # mapping's MaximumRetryAttempts covers a known stretch of SNS outage (see template.yaml).
    # docs/api.md §6: a cancellation request's time limit (template parameter CancellationRequestSlaSeconds).
    cancellation_request_sla_seconds: int = Field(7200, ge=1, le=9_999_999, alias="CANCELLATION_REQUEST_SLA_SECONDS")
    # docs/api.md §7: the sellers' channels and feed, and how deliveries are retried.
    notifications_table_name: str = Field("notifications", alias="NOTIFICATIONS_TABLE_NAME")
    # The local stack's: webhooks to http://localhost and http://127.0.0.1 are allowed.
    allow_local_webhooks: bool = Field(False, alias="ALLOW_LOCAL_WEBHOOKS")
    # The wait before each retry of a delivery (template parameter DeliveryRetryDelaysSeconds).
    delivery_retry_delays_seconds: tuple[int, ...] = Field(
        (60, 300, 900, 1800, 3600, 7200, 14400, 21600, 21600, 21600, 21600), alias="DELIVERY_RETRY_DELAYS_SECONDS"
    )
    delivery_queue_url: str = Field("", alias="DELIVERY_QUEUE_URL")
    delivery_dead_letter_queue_url: str = Field("", alias="DELIVERY_DEAD_LETTER_QUEUE_URL")
    publish_retry_pause_seconds: float = Field(10, ge=0, le=60, alias="PUBLISH_RETRY_PAUSE_SECONDS")

    @field_validator("delivery_retry_delays_seconds", mode="before")
    @classmethod
    def _delays(cls, value: object) -> object:
        """ "60,300,900": seconds, each at most SQS's longest visibility timeout (12 hours)."""
        if isinstance(value, str):
            value = tuple(int(part) for part in value.split(",") if part.strip())
        if not isinstance(value, tuple | list) or not value or any(not 0 <= delay <= 43200 for delay in value):
            raise ValueError("each delay is 0 to 43200 seconds, and there is at least one")
        return value


@cache
def settings() -> Settings:
    return Settings.model_validate(dict(os.environ))


# botocore's own clients: boto3.client makes the same one, after an import of boto3 (resources,
# s3transfer) that costs every cold start and that nothing here uses.


@cache
def dynamodb() -> DynamoDBClient:
    from botocore.config import Config
    from botocore.session import get_session

    config = Config(retries={"mode": "standard", "total_max_attempts": settings().dynamodb_max_attempts})
    return cast("DynamoDBClient", get_session().create_client("dynamodb", config=config))


@cache
def sns() -> SNSClient:
    from botocore.session import get_session

    return cast("SNSClient", get_session().create_client("sns"))


@cache
def sqs() -> SQSClient:
    from botocore.session import get_session

    return cast("SQSClient", get_session().create_client("sqs"))


def reset() -> None:
    """Forget the settings and clients made so far: the next use reads the environment again.

    For tests and the local stack, which change the environment (or the endpoint) between uses.
    """
    for cached in (settings, dynamodb, sns, sqs):
        cached.cache_clear()
