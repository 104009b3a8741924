"""What a cold start imports: the wins docs/performance.md measures, held in place (no timings here).

Each case is a fresh interpreter importing one function's module, as Lambda's init does.
"""

from __future__ import annotations

import pytest

from infra.template import ROOT, handlers, routes
from tests.support.fresh import import_alone

IMPORTED = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
from orders.observability import tracer
print(json.dumps({"modules": sorted(sys.modules), "tracer": type(tracer).__name__}))
"""


def cold_import(handler: str, **environment: str) -> dict:
    return import_alone(IMPORTED, handler.rsplit(".", 1)[0], **environment)


@pytest.mark.parametrize("handler", sorted({route.handler for route in routes()}))
def test_no_api_function_imports_boto3_or_the_xray_sdk_while_tracing_is_off(handler):
    # botocore's client is what boto3.client returns; boto3's own import is cold start for nothing.
    imported = cold_import(handler, LAMBDA_TASK_ROOT=str(ROOT / "functions"), POWERTOOLS_TRACE_DISABLED="true")

    tops = {name.split(".")[0] for name in imported["modules"]}
    assert "boto3" not in tops
    assert "aws_xray_sdk" not in tops
    assert imported["tracer"] == "_Untraced"


def test_with_tracing_on_the_functions_trace_with_powertools():
    imported = cold_import(
        handlers()["CancelOrderFunction"], LAMBDA_TASK_ROOT=str(ROOT / "functions"), POWERTOOLS_TRACE_DISABLED="false"
    )

    assert imported["tracer"] == "Tracer"
    assert "aws_xray_sdk" in {name.split(".")[0] for name in imported["modules"]}
