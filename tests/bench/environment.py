"""What the bench sections share: a moto server, the table and topic on it, orders in any state,
and the environment a Lambda function would run its handler in.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import boto3

from infra.template import template
from tests.support import build as packaging
from tests.support.api import NEW_ORDER
from tests.support.commands import ACTIONS, details_for
from tests.support.contract import PATHS

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
REGION = "eu-west-2"
ACCOUNT_ID = "123456789012"
TABLE = "orders-bench"
NOTIFICATIONS_TABLE = "notifications-bench"
TRACKING_TABLE = "tracking-bench"
DELIVERY_QUEUE = "deliveries-bench"
DEAD_LETTERS = "deliveries-dead-bench"
TOPIC = "order-events-bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench"}
SELLER = "S-BENCH"


class MotoServer:
    """`python -m tests.bench.motoserver` on a free loopback port, with moto's request recorder."""

    def __init__(self) -> None:
        self._recording = Path(tempfile.mkdtemp(prefix="bench-moto-")) / "recording.jsonl"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.motoserver"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MOTO_RECORDER_FILEPATH": str(self._recording), "NO_PROXY": "127.0.0.1"},
            text=True,
        )
        line = self._process.stdout.readline().split()
        if line[:1] != ["PORT"]:
            self.stop()
            raise RuntimeError("moto's server did not start")
        self.url = f"http://127.0.0.1:{line[1]}"

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the recorder: every request moto served, counted on the server's side --------------

    def start_recording(self) -> None:
        start_recording(self.url)

    def recorded(self) -> list[str]:
        return recorded(self.url)

    def stop_recording(self) -> None:
        stop_recording(self.url)


def _recorder(url: str, verb: str) -> str:
    request = urllib.request.Request(
        f"{url}/moto-api/recorder/{verb}", method="GET" if verb == "download-recording" else "POST"
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:
        return answer.read().decode()


def start_recording(url: str) -> None:
    _recorder(url, "reset-recording")
    _recorder(url, "start-recording")


def recorded(url: str) -> list[str]:
    """The operation of each request moto served since start_recording: `UpdateItem`, `Publish` ..."""
    operations = []
    for line in filter(None, _recorder(url, "download-recording").splitlines()):
        entry = json.loads(line)
        target = entry["headers"].get("X-Amz-Target")
        operations.append(target.rsplit(".", 1)[-1] if target else _form_action(entry))
    return operations


def stop_recording(url: str) -> None:
    _recorder(url, "stop-recording")


def _form_action(entry: dict[str, Any]) -> str:
    """The Action of a query-protocol request (SNS, SQS): `Publish` ..."""
    import base64
    from urllib.parse import parse_qs

    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode(errors="replace")
    return parse_qs(body).get("Action", ["?"])[0]


class Aws:
    """The bench's side of the moto server: clients, the table from template.yaml, the topic."""

    def __init__(self, url: str, table: str = TABLE):
        self.url = url
        self.table = table

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
        )

    @cached_property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    def create(self) -> Aws:
        from infra.template import NOTIFICATIONS_TABLE as LOGICAL_ID
        from infra.template import table_definition

        self.dynamodb.create_table(**table_definition(self.table))
        self.dynamodb.create_table(**table_definition(NOTIFICATIONS_TABLE, LOGICAL_ID))
        self.dynamodb.create_table(**table_definition(TRACKING_TABLE, "TrackingTable"))
        self.topic_arn = self.client("sns").create_topic(Name=TOPIC)["TopicArn"]
        sqs = self.client("sqs")
        self.delivery_queue_url = sqs.create_queue(QueueName=DELIVERY_QUEUE)["QueueUrl"]
        sqs.create_queue(QueueName=DEAD_LETTERS)
        return self

    @cached_property
    def store(self) -> Any:
        from orders.store import OrderStore

        return OrderStore(self.table, client=self.dynamodb)

    def order_in(self, state: str, reference: str, seller_id: str = SELLER) -> dict[str, Any]:
        """A new order driven to `state` (a contract state name, "PACKED/REQUESTED") through the store."""
        from orders.domain import WAREHOUSE, Seller

        order, _ = self.store.create(seller_id, {"reference": reference, **NEW_ORDER})
        for command in PATHS[state]:
            caller = Seller(seller_id) if command in ("cancel", "request") else WAREHOUSE
            details = details_for(command)
            order = self.store.apply(order["order_id"], ACTIONS[command], caller, details).order
        return order


def lambda_environment(
    function: str, *, code: Path, aws_url: str, topic_arn: str, tracing: bool = False
) -> dict[str, str]:
    """What Lambda sets, plus the function's own template variables, for a handler on the moto server.

    Tracing on adds what Lambda adds under Active tracing: a trace header and a daemon address
    (nothing listens on it; the X-Ray SDK sends UDP and does not wait).
    """
    properties = template()["Resources"][function]["Properties"]
    memory = properties.get("MemorySize", template()["Globals"]["Function"]["MemorySize"])
    variables = {
        **template()["Globals"]["Function"]["Environment"]["Variables"],
        **properties.get("Environment", {}).get("Variables", {}),
    }
    resolved = {
        "TABLE_NAME": TABLE,
        "TOPIC_ARN": topic_arn,
        "NOTIFICATIONS_TABLE_NAME": NOTIFICATIONS_TABLE,
        "TRACKING_TABLE_NAME": TRACKING_TABLE,
        "DELIVERY_QUEUE_URL": f"{aws_url}/{ACCOUNT_ID}/{DELIVERY_QUEUE}",
        "DELIVERY_DEAD_LETTER_QUEUE_URL": f"{aws_url}/{ACCOUNT_ID}/{DEAD_LETTERS}",
        "PORTAL_ORIGIN": str(template()["Parameters"]["PortalOrigin"]["Default"]),
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
    }
    parameters = template().get("Parameters", {})
    for name, value in variables.items():  # a parameter's default, as `sam deploy` without overrides
        if isinstance(value, dict) and value.get("Ref") in parameters:
            resolved.setdefault(name, str(parameters[value["Ref"]]["Default"]))
    environment = {name: resolved.get(name, value) for name, value in variables.items()}
    if any(not isinstance(value, str) for value in environment.values()):
        raise ValueError(f"{function}: a template variable the bench cannot resolve: {environment}")
    environment.update(
        {
            "PATH": "/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": aws_url,
            "LAMBDA_TASK_ROOT": str(code),
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "NO_PROXY": "127.0.0.1",
            # The bench's webhook receiver is on loopback, as the local stack's is.
            "ALLOW_LOCAL_WEBHOOKS": "true",
        }
    )
    if tracing:
        environment.update(
            {
                "_X_AMZN_TRACE_ID": "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1",
                "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            }
        )
    return environment


_sequence = itertools.count(100000000000000000000)


def stream_record(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The stream record of a change from `before` to `after`, as Lambda's event source mapping delivers it."""
    from boto3.dynamodb.types import TypeSerializer

    image = TypeSerializer().serialize
    new_image, old_image = image(after)["M"], image(before)["M"]
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {"order_id": {"S": after["order_id"]}},
            "NewImage": new_image,
            "OldImage": old_image,
            "SequenceNumber": str(next(_sequence)),
            "SizeBytes": len(json.dumps(new_image)) + len(json.dumps(old_image)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{TABLE}/stream/2026-11-26T00:00:00.000",
    }


def memory_size(function: str) -> int:
    properties = template()["Resources"][function]["Properties"]
    return int(properties.get("MemorySize", template()["Globals"]["Function"]["MemorySize"]))


def run_module(
    module: str, code: Path, function: str, aws_url: str, topic_arn: str, spec: dict[str, Any]
) -> dict[str, Any]:
    """`python -S -m module SPEC RESULT` in `function`'s Lambda environment, with `code` first on sys.path."""
    environment = lambda_environment(function, code=code, aws_url=aws_url, topic_arn=topic_arn)
    environment["PYTHONPATH"] = python_path(code, ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        spec_path, result_path = Path(directory) / "spec.json", Path(directory) / "result.json"
        full = {
            "function": function,
            "aws_url": aws_url,
            "topic_arn": topic_arn,
            "log": f"{directory}/stdout.log",
            **spec,
        }
        spec_path.write_text(json.dumps(full))
        finished = subprocess.run(
            [sys.executable, "-S", "-m", module, str(spec_path), str(result_path)],
            cwd=directory,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=900,
        )
        if finished.returncode != 0:
            raise RuntimeError(f"{module} ({function}) failed:\n{finished.stderr.decode()[-3000:]}")
        return json.loads(result_path.read_text())


# -- the file system a Lambda function sees --------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """sys.path as Lambda's: /var/task (the deployment package), then /var/runtime."""

    task: Path
    runtime: Path

    @property
    def python_path(self) -> str:
        return os.pathsep.join((str(self.task), str(self.runtime)))


@cache
def lambda_layout(code: Path, build: str = "makefile", python: str = sys.executable) -> Layout:
    """/var/task as Lambda has it: the package built from `code` (a functions/ tree), zipped as
    `sam package` zips it and unpacked with the zip's dates. Cold starts run with -B, as /var/task is
    read-only: what bytecode the build shipped and still validates is all they get."""
    directory = Path(tempfile.mkdtemp(prefix="bench-build-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    artifacts = directory / "artifacts"
    if build == "makefile":
        packaging.build("CancelOrderFunction", artifacts, code, python)  # one recipe builds every function
    else:
        packaging.sam_default_build(artifacts, code, python)
    return Layout(packaging.unpack(artifacts, directory / "task"), packaging.runtime_directory(python))


def python_path(code: Path, *more: Path) -> str:
    """sys.path of a fresh interpreter run with -S: the code package first, as /var/task is in Lambda."""
    return os.pathsep.join(str(path) for path in (code, *more, packaging.SITE_PACKAGES))
