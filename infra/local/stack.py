"""The local stack's wiring: `LocalStack` starts the whole of template.yaml in this process and stops it.

One process holds moto's server (DynamoDB and its stream, SNS, SQS, Cognito, IAM) with the
template's resources, the emulated API Gateway serving the template's routes with the real
handlers, the stream poller feeding the notifier as the event source mapping would, the queue
pollers, the schedules, the portal, the demo sellers' webhook receiver and a subscriber on the
topic that /_local/notifications answers from. Tests start it on free ports; the `orders-local`
command line (`make run`) is cli.py, and what it prints first is banner.py.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from infra import template
from infra.local.pace import Pace
from infra.local.served import PortInUse, Served, check_free

log = logging.getLogger("orders-local")
REGION = "eu-west-2"
STACK_NAME = "orders-local"
OPENAPI = template.ROOT / "openapi.json"
_running = threading.Lock()  # moto's state is per process: one stack at a time
STOP_SECONDS = 3.0  # how long `stop` may take, however busy the stack is
SQS_CONCURRENCY = 5  # the batches Lambda runs at once for an SQS event source when it starts


class LocalStack:
    """The local stack, started on the given ports (0: any free one) and stopped cleanly."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        moto_port: int = 5000,
        portal_port: int | None = 8080,
        region: str = REGION,
        seed_demo: bool = True,
        parameter_overrides: dict[str, str] | None = None,
    ):
        self.host = host
        self.port = port
        self.moto_port = moto_port
        self.portal_port = portal_port  # None: no portal
        self.portal: Any = None
        self.region = region
        self.seed_demo = seed_demo
        self.parameter_overrides = parameter_overrides or {}
        self.resources: Any = None
        self.schedules: Any = None
        self.receiver: Any = None
        self.carrier: Any = None  # the local carrier (infra/local/carrier.py) once the demo is seeded
        self._local_routes: Any = None
        self.queue_pollers: list[Any] = []
        self._stop = threading.Event()
        self._pace = Pace()  # the pollers look often while the stack is busy, seldom once it is quiet
        self._threads: list[threading.Thread] = []
        self._pollers: list[Any] = []
        self._moto: Any = None
        self._functions: Any = None
        self._http: Any = None
        self._inbox: Any = None
        self._saved_environment: dict[str, str] | None = None
        self._started = False

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- start -------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        if not _running.acquire(blocking=False):
            raise RuntimeError("a LocalStack is already running in this process (moto's state is per process)")
        self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from infra.local.moto_dynamodb import patch_dynamodb
        from infra.local.moto_server import MotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's and our servers' own request lines
        with _port_set_by("PORT"):
            check_free(self.host, self.port)  # before moto starts, so a busy port fails at once
        self._saved_environment = dict(os.environ)
        os.environ.update(_aws_environment(self.region))
        patch_dynamodb()
        with _port_set_by("MOTO_PORT"):
            self._moto = MotoServer(self.host, self.moto_port)
        self.moto_port = self._moto.port
        self._moto.reset()
        self._moto.answer_in_process()  # before the stack's first client (infra/local/moto_server.py)

        from moto.core.models import DEFAULT_ACCOUNT_ID

        from infra.local.resources import Clients, create_resources

        clients = Clients(self.aws_url, self.region)
        self.resources = create_resources(
            clients,
            region=self.region,
            account_id=DEFAULT_ACCOUNT_ID,
            stack_name=STACK_NAME,
            parameter_overrides=self.parameter_overrides,
        )
        os.environ.update(self._handler_environment())
        _forget_cached_settings()

        from infra.local.functions import Functions

        functions = self._functions = Functions(self.resources, self._pace)
        from infra.local.webhook_receiver import Receiver

        self.receiver = Receiver(host=self.host).start()  # the demo sellers' own systems
        from infra.local.schedules import Schedules

        self.schedules = Schedules(
            functions, region=self.region, account_id=self.resources.account_id, stack_name=STACK_NAME
        )
        gateway = self._gateway(clients, functions)
        with _port_set_by("PORT"):
            self._http = Served(gateway, self.host, self.port, "api")
        self.port = self._http.port
        self._start_stream_pollers(clients, functions)
        if self.portal_port is not None:
            from infra.local.portal_server import PortalServer

            with _port_set_by("PORTAL_PORT"):
                self.portal = PortalServer(self.api_url, host=self.host, port=self.portal_port).start()
        self._start_queue_pollers(clients, functions)
        self._inbox.start(self._stop, self._pace)
        self.schedules.start(self._stop, self._spawn)
        if self.seed_demo:
            from infra.local import demo
            from orders.item import order_id_for

            # The demo's own requests and notifications are not the user's: keep them out of the log.
            gateway.log_requests = functions.log_invocations = False
            demo.seed(self.api_url, order_id_for, self.receiver)
            for poller in self._pollers:  # ready means the demo's notifications are out too
                poller.poll_once()
            gateway.log_requests = functions.log_invocations = True
            self._start_carrier()

    def _start_carrier(self) -> None:
        """The demo sellers' despatched parcels move along by themselves (local only: not in the template)."""
        from infra.local.carrier import Carrier, carrier_seconds

        self.carrier = self._local_routes.carrier = Carrier(self.api_url)  # POST /_local/carrier: a turn now
        seconds = carrier_seconds()
        if seconds > 0:
            self._spawn(lambda: self.carrier.run(self._stop, seconds), "local-carrier")

    def _handler_environment(self) -> dict[str, str]:
        """What the functions' environments hold (the template's, resolved), then the local settings."""
        environment: dict[str, str] = {}
        for function in template.handlers():
            for name, value in self.resources.environment(function).items():
                if environment.get(name, value) != value:
                    log.warning("%s is %r for %s but %r for another function", name, value, function, environment[name])
                environment[name] = value
        environment.update(
            {
                "AWS_ENDPOINT_URL": self.aws_url,
                "ALLOW_LOCALHOST_ORIGINS": "true",
                "ALLOW_LOCAL_WEBHOOKS": "true",
                # Quiet but present: the handlers' warnings and errors (all their lines with
                # POWERTOOLS_LOG_LEVEL=INFO make run); metrics (EMF) and tracing off.
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": (self._saved_environment or {}).get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            }
        )
        return environment

    def _gateway(self, clients: Any, functions: Any) -> Any:
        from infra.local.auth import CognitoAuthorizer, SigV4Authorizer
        from infra.local.gateway import CorsPolicy, Gateway
        from infra.local.inbox import Inbox
        from infra.local.local_routes import LocalRoutes, SellerSignIn

        resources = self.resources
        _, api = template.api()
        authorizers = api.get("Auth", {}).get("Authorizers", {})
        seller_authorizer = authorizers[api["Auth"]["DefaultAuthorizer"]]
        pool_arn = resources.resolver(seller_authorizer["UserPoolArn"])
        pool_id = pool_arn.rsplit("/", 1)[1]
        cognito = CognitoAuthorizer(
            jwks=_get_json(f"{self.aws_url}/{pool_id}/.well-known/jwks.json"),
            issuer=f"https://cognito-idp.{self.region}.amazonaws.com/{pool_id}",
            audiences=resources.audiences(pool_id),
        )
        sigv4 = SigV4Authorizer(
            region=self.region,
            principals=[resources.warehouse] if resources.warehouse else [],
            resource_prefix=(
                f"arn:aws:execute-api:{self.region}:{resources.account_id}:{resources.api_id}/{resources.stage}"
            ),
        )
        cors = resources.resolver(api.get("Cors", {}))
        cors = {"AllowOrigin": cors} if isinstance(cors, str) else cors
        responses = resources.resolver(api.get("GatewayResponses", {}))
        self._inbox = Inbox(clients, resources)
        self._inbox.subscribe()
        sign_in = SellerSignIn(clients, pool_id=pool_id, client_id=resources.token_client_id(pool_id))
        return Gateway(
            routes=template.routes(),
            functions=functions,
            cognito=cognito,
            sigv4=sigv4,
            cors=CorsPolicy({name: _unquote(value) for name, value in cors.items()}, allow_localhost=True),
            gateway_response_headers={
                kind: {
                    name: _unquote(value)
                    for name, value in body.get("ResponseParameters", {}).get("Headers", {}).items()
                }
                for kind, body in responses.items()
            },
            local_routes=self._new_local_routes(LocalRoutes, sign_in),
            account_id=resources.account_id,
            api_id=resources.api_id,
            stage=resources.stage,
            identity_header=seller_authorizer.get("Identity", {}).get("Header", "Authorization"),
        )

    def _new_local_routes(self, local_routes: Any, sign_in: Any) -> Any:
        self._local_routes = local_routes(
            sign_in=sign_in,
            warehouse=self.resources.warehouse,
            region=self.region,
            inbox=self._inbox,
            openapi=OPENAPI,
            schedules=self.schedules,
            receiver=self.receiver,
        )
        return self._local_routes

    def _start_queue_pollers(self, clients: Any, functions: Any) -> None:
        """One poller per SQS event in the template, as Lambda runs one event source mapping each, with as many
        batches at once as Lambda starts with (its ScalingConfig's MaximumConcurrency, if the template caps it)."""
        from infra.local.queue_poller import QueuePoller

        for subscription in template.queue_subscriptions():
            arn = self.resources.resolver(subscription.properties["Queue"])
            poller = QueuePoller(
                sqs_client=clients.sqs,
                queue_url=self.resources.queue_url(arn),
                queue_arn=arn,
                region=self.region,
                handler=functions.serialized(subscription.function, exclusive=False, kind="QUEUE"),
                batch_size=int(subscription.properties.get("BatchSize", 10)),
                pace=self._pace,
                concurrency=int(
                    subscription.properties.get("ScalingConfig", {}).get("MaximumConcurrency", SQS_CONCURRENCY)
                ),
            )
            self.queue_pollers.append(poller)
            self._spawn(functools.partial(poller.run, self._stop), f"queue-{subscription.function}")

    def _start_stream_pollers(self, clients: Any, functions: Any) -> None:
        """One poller per DynamoDB event in the template, as Lambda runs one event source mapping each."""
        from infra.local.stream_poller import MappingSettings, StreamPoller

        for subscription in template.stream_subscriptions():
            destination = subscription.properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            poller = StreamPoller(
                dynamodb_client=clients.dynamodb,
                streams_client=clients.streams,
                table_name=self.resources.table_name,
                handler=functions.serialized(subscription.function),
                sqs_client=clients.sqs,
                on_failure_queue_url=self.resources.queue_url(self.resources.resolver(destination))
                if destination
                else None,
                settings=MappingSettings.from_template(subscription.function),
            )
            self._pollers.append(poller)
            self._spawn(functools.partial(poller.run, self._stop, self._pace), f"stream-{subscription.function}")

    def _spawn(self, target: Callable[[], object], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- stop --------------------------------------------------------------------------------

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Everything stopped within `timeout` seconds, busy or not, in an order that lets each part end:
        no new invocation (those queued behind the lock are refused at once), no new request, the
        invocations in progress finished, the pollers and subscriber joined, then the servers, moto
        last (the invocations in progress still call it); the environment restored. A thread still
        busy at the deadline is left behind (ours are daemons): the stop does not wait for it."""
        if not self._started:
            return
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        self._stop.set()
        self._pace.stir()  # every poller waiting for its next look sees the stop now
        self._stop_work(left)
        for server in (self.receiver, self.portal, self._moto):
            if server is not None:
                server.stop(left())
        if self._saved_environment is not None:
            os.environ.clear()
            os.environ.update(self._saved_environment)
            _forget_cached_settings()
        self._started = False
        _running.release()

    def _stop_work(self, left: Callable[[], float]) -> None:
        """No invocation and no request from now on; those in progress, the pollers and the subscriber ended."""
        if self._functions is not None:
            self._functions.close()
        if self._http is not None:
            self._http.stop(left())
        if self._functions is not None and not self._functions.wait_idle(left()):
            log.warning("an invocation was still running when the stack stopped")
        for thread in self._threads:
            thread.join(left())
        if self._inbox is not None:
            self._inbox.join(left())


@contextmanager
def _port_set_by(variable: str) -> Iterator[None]:
    """A taken port's error names the variable that chooses it (PORT, MOTO_PORT, PORTAL_PORT)."""
    try:
        yield
    except PortInUse as taken:
        raise taken.set_by(variable) from None


def _aws_environment(region: str) -> dict[str, str]:
    """Fake credentials and a region for every client in the process, nothing that reaches AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost"]))
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        # Without it, current botocore sends DynamoDB Streams calls to an account endpoint moto does not serve.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }


def _forget_cached_settings() -> None:
    """The handlers read settings and make clients once per process: after an environment change, again."""
    if "orders.settings" in sys.modules:
        from orders import settings

        settings.reset()


def _get_json(url: str) -> Any:
    import requests

    session = requests.Session()
    session.trust_env = False
    answer = session.get(url, timeout=10)
    answer.raise_for_status()
    return answer.json()


def _unquote(value: Any) -> str:
    """API Gateway header values in the template are quoted literals: "'GET,POST'"."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text
