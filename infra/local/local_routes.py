"""The /_local/ helper routes of docs/api.md §5: tokens, warehouse credentials, notifications, OpenAPI,
and running a scheduled function now.

They exist only in the local stack, never in the template: they stand in for the Cognito
sign-in page, the IAM console and a seller's notification channel.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import threading
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local.functions import InvocationFailed
from infra.local.inbox import Inbox
from infra.local.resources import Clients, Principal
from infra.local.schedules import Schedules
from infra.local.webhook_receiver import Receiver
from orders import problems
from orders.problems import ProblemAnswer

SCHEDULES = "/_local/schedules/"
SELLER_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")  # the pool's custom:seller_id allows 1-64 characters


class SellerSignIn:
    """ID tokens from the local user pool: the seller's user is created (admin APIs) on first use.

    The portal signs in with SRP; locally the pool's own client also allows
    ADMIN_USER_PASSWORD_AUTH, so the token has the same issuer, audience and claims.
    """

    def __init__(self, clients: Clients, *, pool_id: str, client_id: str):
        self._cognito = clients.cognito
        self._pool_id = pool_id
        self._client_id = client_id
        self._passwords: dict[str, str] = {}
        self._lock = threading.Lock()

    def id_token(self, seller_id: str) -> str:
        username = self.username(seller_id)
        # One sign-in at a time: moto's Cognito mutates a shared dict while it issues tokens.
        with self._lock:
            if seller_id not in self._passwords:
                self._passwords[seller_id] = self._create_user(username, seller_id)
            result = self._cognito.admin_initiate_auth(
                UserPoolId=self._pool_id,
                ClientId=self._client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": self._passwords[seller_id]},
            )
        token: str = result["AuthenticationResult"]["IdToken"]
        return token

    @staticmethod
    def username(seller_id: str) -> str:
        """The pool signs in by email; a seller's local address is derived from its id."""
        slug = re.sub(r"[^a-z0-9]+", "-", seller_id.lower()).strip("-")[:32] or "seller"
        return f"{slug}.{hashlib.sha256(seller_id.encode()).hexdigest()[:10]}@sellers.local.test"

    def _create_user(self, username: str, seller_id: str) -> str:
        password = f"Local-{secrets.token_urlsafe(12)}-9a"
        # Created outside this stack (say, with the AWS CLI)? Take it over with a new password.
        with contextlib.suppress(self._cognito.exceptions.UsernameExistsException):
            self._cognito.admin_create_user(
                UserPoolId=self._pool_id,
                Username=username,
                UserAttributes=[
                    {"Name": "email", "Value": username},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "custom:seller_id", "Value": seller_id},
                ],
                TemporaryPassword=password,
                MessageAction="SUPPRESS",
            )
        self._cognito.admin_set_user_password(
            UserPoolId=self._pool_id, Username=username, Password=password, Permanent=True
        )
        return password


class LocalRoutes:
    def __init__(
        self,
        *,
        sign_in: SellerSignIn,
        warehouse: Principal | None,
        region: str,
        inbox: Inbox,
        openapi: Path,
        schedules: Schedules | None = None,
        receiver: Receiver | None = None,
    ):
        self._sign_in = sign_in
        self._warehouse = warehouse
        self._region = region
        self._inbox = inbox
        self._openapi = openapi
        self._schedules = schedules
        self._receiver = receiver
        # The local carrier (infra/local/carrier.py), once the demo is seeded; None when it is off.
        self.carrier: Any = None

    def __call__(self, request: Request, body: bytes) -> Response:
        routes = {
            "/_local/tokens": ("POST", self._token),
            "/_local/warehouse-credentials": ("POST", self._warehouse_credentials),
            "/_local/notifications": ("GET", self._notifications),
            "/_local/webhook-deliveries": ("GET", self._webhook_deliveries),
            "/_local/openapi.json": ("GET", self._openapi_document),
            "/_local/carrier": ("POST", self._carrier_turn),
        }
        if request.path.startswith(SCHEDULES):
            routes[request.path] = ("POST", self._run_schedule)
        if request.path not in routes:
            return _problem(problems.no_such_route(f"There is no local route {request.path}."))
        method, answer = routes[request.path]
        if request.method != method:
            return _problem(problems.method_not_allowed(request.path, method))
        return answer(request, body)

    def _token(self, request: Request, body: bytes) -> Response:
        try:
            document = json.loads(body or b"null")
        except ValueError:
            document = None
        seller_id = document.get("seller_id") if isinstance(document, dict) else None
        if not isinstance(seller_id, str) or not SELLER_ID.match(seller_id):
            return _problem(
                problems.invalid_field("seller_id", 'Send {"seller_id": "<1 to 64 printable characters>"}.')
            )
        return _json({"id_token": self._sign_in.id_token(seller_id)})

    def _warehouse_credentials(self, request: Request, body: bytes) -> Response:
        if self._warehouse is None:
            return _problem(problems.no_such_route("The template gives the warehouse no invoke policy."))
        return _json(
            {
                "access_key_id": self._warehouse.access_key_id,
                "secret_access_key": self._warehouse.secret_access_key,
                "region": self._region,
            }
        )

    def _notifications(self, request: Request, body: bytes) -> Response:
        seller_id = request.args.get("seller_id", "")
        if not SELLER_ID.match(seller_id):
            return _problem(problems.invalid_field("seller_id", "Pass ?seller_id=<the seller's id>."))
        return _json({"notifications": self._inbox.for_seller(seller_id)})

    def _run_schedule(self, request: Request, body: bytes) -> Response:
        function = request.path.removeprefix(SCHEDULES)
        if self._schedules is None or function not in self._schedules.schedules:
            known = ", ".join(sorted(self._schedules.schedules)) if self._schedules else "none"
            return _problem(
                problems.no_such_route(f"No function of the template has a Schedule event named {function!r}: {known}.")
            )
        try:
            result = self._schedules.run_now(function)
        except InvocationFailed:
            return _problem(problems.internal_error())
        return _json({"function": function, "result": result})

    def _carrier_turn(self, request: Request, body: bytes) -> Response:
        """One turn of the local carrier now: each demo seller's despatched order one courier status on."""
        if self.carrier is None:
            return _problem(problems.no_such_route("The local carrier is off (no demo, or LOCAL_CARRIER_SECONDS=0)."))
        sellers = request.args.getlist("seller_id") or None
        return _json({"sent": self.carrier.turn(sellers)})

    def _webhook_deliveries(self, request: Request, body: bytes) -> Response:
        seller_id = request.args.get("seller_id", "")
        if not SELLER_ID.match(seller_id):
            return _problem(problems.invalid_field("seller_id", "Pass ?seller_id=<the seller's id>."))
        found = [] if self._receiver is None else self._receiver.of(f"/{seller_id}")
        return _json({"deliveries": [delivery.as_json() for delivery in found]})

    def _openapi_document(self, request: Request, body: bytes) -> Response:
        if not self._openapi.is_file():
            return _problem(problems.no_such_route("openapi.json is missing: run `make openapi`."))
        return Response(self._openapi.read_bytes(), status=200, content_type="application/json")


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, content_type="application/json")


def _problem(answer: ProblemAnswer) -> Response:
    return Response(answer.body(), status=answer.status, headers=answer.headers, content_type=problems.MEDIA_TYPE)
