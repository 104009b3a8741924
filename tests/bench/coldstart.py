"""One cold start, timed from the inside: `python -S coldstart.py SPEC RESULT`, in a fresh interpreter.

SPEC (JSON) says what to run. `"kind": "handler"` imports the handler module and serves one event,
as Lambda's init and first invoke do; `"kind": "floor"` imports boto3, creates the client and makes
one call, which every handler pays anyway; `"kind": "frameworks"` is the floor of our choice of
frameworks: a minimal Powertools resolver that validates, serving one event with one call. RESULT gets
the times in milliseconds from the first line below (the interpreter's own start-up is the same for
both, and not ours to shorten).

Deliberately stdlib only and outside any package import, so that it measures nothing but the spec.
"""

import json
import resource
import sys
import time


class LambdaContext:
    """What the runtime passes as `context`, with the attributes Powertools reads."""

    def __init__(self, function_name: str, memory_limit_in_mb: int):
        self.function_name = function_name
        self.memory_limit_in_mb = memory_limit_in_mb
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-2:123456789012:function:{function_name}"
        self.aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/26/[$LATEST]bench"
        self._deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def frameworks(spec: dict) -> object:
    """The least any API handler here can import: Powertools' validating resolver with one route,
    a pydantic model, Logger and Metrics, and botocore's client for the same one call."""
    import botocore.session
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from pydantic import BaseModel

    logger, metrics = Logger(), Metrics()
    app = APIGatewayRestResolver(enable_validation=True)

    class Answer(BaseModel):
        request_id: str

    @app.post("/floor")
    def route() -> Answer:
        client = botocore.session.get_session().create_client(spec["service"])
        response = getattr(client, spec["operation"])(**spec["parameters"])
        return Answer(request_id=response["ResponseMetadata"]["RequestId"])

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict, context: object) -> dict:
        return app.resolve(event, context)

    return handler


def main(spec_path: str, result_path: str) -> None:
    with open(spec_path) as file:
        spec = json.load(file)
    context = LambdaContext(spec.get("function", "floor"), spec.get("memory", 512))

    started = time.perf_counter()
    if spec["kind"] == "handler":
        import importlib

        module, attribute = spec["handler"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module), attribute)
        ready = time.perf_counter()
        response = handler(spec["event"], context)
        answer = response.get("statusCode", response) if isinstance(response, dict) else response
    elif spec["kind"] == "floor":
        import boto3

        client = boto3.client(spec["service"])
        ready = time.perf_counter()
        response = getattr(client, spec["operation"])(**spec["parameters"])
        answer = response["ResponseMetadata"]["HTTPStatusCode"]
    else:
        handler = frameworks(spec)
        ready = time.perf_counter()
        response = handler(spec["event"], context)
        answer = response["statusCode"]
    finished = time.perf_counter()

    with open(result_path, "w") as file:
        json.dump(
            {
                "init_ms": (ready - started) * 1000,
                "first_ms": (finished - ready) * 1000,
                "total_ms": (finished - started) * 1000,
                "answer": answer,
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "modules": len(sys.modules),
            },
            file,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
