"""Calls the Lambda functions as API Gateway would: the template's route, a real REST event."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

from infra.template import routes
from tests.support.commands import http_call, method_of
from tests.support.events import LambdaContext, rest_event

NEW_ORDER = {
    "items": [{"sku": "TSHIRT-RED-M", "quantity": 2}],
    "recipient": {
        "name": "Ada Lovelace",
        "address_line1": "12 St James's Square",
        "city": "London",
        "postcode": "SW1Y 4JH",
        "country": "GB",
    },
    "courier_service": "ROYAL_MAIL_48",
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


def function_for(method: str, resource: str):
    """The `handler` of the function template.yaml routes (method, resource) to."""
    [route] = [r for r in routes() if r.method == method and r.path == resource]
    module, attribute = route.handler.rsplit(".", 1)
    return getattr(importlib.import_module(module), attribute)


def invoke(method: str, resource: str, **event_args: Any) -> Reply:
    response = function_for(method, resource)(rest_event(method, resource, **event_args), LambdaContext())
    headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    body = response.get("body")
    return Reply(response["statusCode"], headers, json.loads(body) if body else None)


class SellerPortal:
    """The portal (as seller `seller_id`) and the warehouse, speaking to the functions."""

    def __init__(self, seller_id: str = "S-1"):
        self.seller_id = seller_id

    def create(self, reference: str, **overrides: Any) -> Reply:
        body = {"reference": reference, **NEW_ORDER, **overrides}
        return invoke("POST", "/orders", body=body, seller_id=self.seller_id)

    def get(self, order_id: str) -> Reply:
        return invoke("GET", "/orders/{order_id}", path_parameters={"order_id": order_id}, seller_id=self.seller_id)

    def edit(self, order_id: str, body: Any, **headers: str) -> Reply:
        """PATCH /orders/{order_id} with `body` (any JSON, or bytes) and `headers` (If-Match, ...)."""
        return invoke(
            "PATCH",
            "/orders/{order_id}",
            path_parameters={"order_id": order_id},
            body=body,
            seller_id=self.seller_id,
            headers=headers or None,
        )

    def list(self, **query: str) -> Reply:
        return invoke("GET", "/orders", query=query or None, seller_id=self.seller_id)

    def send(self, command: str, order_id: str) -> Reply:
        """A command of the contract's table: cancel, request, edit, approve, reject or a status."""
        resource, body, caller = http_call(command)
        identity = {"seller_id": self.seller_id} if caller == "seller" else {"warehouse": True}
        return invoke(method_of(command), resource, path_parameters={"order_id": order_id}, body=body, **identity)

    def order_in(self, state_name: str, reference: str) -> dict[str, Any]:
        """A new order driven to a state of the contract through the API itself."""
        from tests.support.contract import PATHS

        order = self.create(reference).body
        for command in PATHS[state_name]:
            reply = self.send(command, order["order_id"])
            assert reply.status in (200, 202), (command, reply.body)
            order = reply.body
        return order
