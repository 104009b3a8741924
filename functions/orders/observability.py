"""Logging, metrics and tracing, created once for every function (Powertools reads its env vars)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="order-cancellations")
metrics = Metrics(namespace="OrderCancellations", service="order-cancellations")
# Off unless POWERTOOLS_TRACE_DISABLED is false: the template switches it on per stage.
tracer = Tracer(service="order-cancellations")
