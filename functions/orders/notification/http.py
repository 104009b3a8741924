"""The notification room's side of HTTP: the channel id path parameter, and the room's errors as problems,
registered on the one resolver of orders.api, so that api.py needs to know nothing of channels.

The channel and feed handlers import this module; the problems' shape is orders.problems' own.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from orders import api, problems
from orders.api import app, problem_response
from orders.notification.events import PublishFailed
from orders.notification.models import CHANNEL_ID_PATTERN
from orders.notification.store import MAX_CHANNELS, ChannelLimit, ChannelNotFound
from orders.observability import logger
from orders.problems import ProblemAnswer
from orders.settings import settings

ChannelId = Annotated[
    str, Path(pattern=CHANNEL_ID_PATTERN, description="A channel id, as POST /notification-channels gave it")
]
api.path_parameter("channel_id", CHANNEL_ID_PATTERN)


def channel_not_found(channel_id: str) -> ProblemAnswer:
    return problems.problem(
        HTTPStatus.NOT_FOUND, "CHANNEL_NOT_FOUND", f"There is no channel {channel_id}.", title="Channel not found"
    )


def channel_limit(most: int) -> ProblemAnswer:
    return problems.problem(
        HTTPStatus.CONFLICT,
        "CHANNEL_LIMIT",
        f"A seller has at most {most} notification channels; delete one before adding another.",
        title="Channel limit reached",
    )


def test_not_sent(retry_after_seconds: int) -> ProblemAnswer:
    return problems.problem(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        f"The test event could not be sent just now; nothing was sent. Retry after {retry_after_seconds} s.",
        headers={"Retry-After": str(retry_after_seconds)},
    )


@app.exception_handler(ChannelNotFound)
def _channel_not_found(error: ChannelNotFound) -> Response[str]:
    return problem_response(channel_not_found(error.channel_id))


@app.exception_handler(ChannelLimit)
def _channel_limit(error: ChannelLimit) -> Response[str]:
    return problem_response(channel_limit(MAX_CHANNELS))


@app.exception_handler(PublishFailed)
def _publish_failed(error: PublishFailed) -> Response[str]:
    logger.warning("SNS refused the TEST event", extra={"error": str(error)})
    return problem_response(test_not_sent(settings().retry_after_seconds))
