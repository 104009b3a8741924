"""Logging, metrics and tracing, created once for every function (Powertools reads its env vars)."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="order-cancellations")
metrics = Metrics(namespace="OrderCancellations", service="order-cancellations")


class _Untraced:
    """`tracer` while tracing is off: Tracer() imports the X-Ray SDK even then, a cold start cost for nothing."""

    @staticmethod
    def capture_lambda_handler(handler: Callable[..., Any]) -> Callable[..., Any]:
        return handler


# Off unless POWERTOOLS_TRACE_DISABLED is false in Lambda: the template switches it on per stage.
# Powertools' own rule decides, so that the two never disagree.
tracer = _Untraced() if Tracer._is_tracer_disabled() else Tracer(service="order-cancellations")
