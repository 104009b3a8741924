"""Generated requests for every route, against openapi.json, through the local stack.

schemathesis (its Python API: `schemathesis.openapi.from_url`, `APIOperation.as_strategy`,
`Case.call`, `Case.validate_response`) generates valid and invalid requests from the
document the stack serves at /_local/openapi.json. Seller routes carry a real seller's ID
token; warehouse routes are signed with SigV4 by botocore, as sent (a requests auth hook).
Every answer must be no server error, a status code and a content type the document lists
for the route, a body that matches its schema, and invalid requests must be refused (4xx,
schemathesis' negative_data_rejection: an unknown query parameter is ignored, not refused).
Half of the valid requests name one of the seller's real orders (in every state of §2), so
that generated commands reach the rules and not only the 404.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.template import routes
from tests.hardening.harness import SCALE
from tests.hardening.wire import SigV4, seller, warehouse
from tests.support.commands import BACKORDERED_LINE, http_call
from tests.support.contract import PATHS, STATES
from tests.support.local_stack import wait_for

pytestmark = pytest.mark.e2e

EXAMPLES_PER_MODE = 150 * SCALE  # per route: 150 valid and 150 invalid requests
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
REFUSED_AS_MALFORMED = (400, 413, 415)
MIN_ACCEPTED_SHARE = 0.95
# A webhook URL is refused unless its host resolves to public addresses only, which no schema can
# say (and this machine resolves no public name): valid requests send a URL the local stack allows.
LOCAL_URLS = st.sampled_from(["https://localhost:9/fuzz", "https://127.0.0.1:9/fuzz?x=1", "https://localhost/a"])


def _with_the_orders_lines(body: dict) -> dict:
    """A status move as the warehouse sends it: a backorder names the order's own line, other moves none."""
    rest = {name: value for name, value in body.items() if name not in ("backordered_items", "expected_at")}
    return {**rest, "backordered_items": [dict(BACKORDERED_LINE)]} if body.get("status") == "ON_BACKORDER" else rest


# Three groups of routes, which up to three pytest-xdist workers can take at once (tests/support/scheduling.py's
# collection hook): one worker took five minutes over every route.
ROUTES = [
    pytest.param(route, id=f"{route.method} {route.path}", marks=pytest.mark.xdist_group(f"fuzz-{number % 3}"))
    for number, route in enumerate(routes())
]
# A courier event may not be more than an hour ahead of the server's clock (docs/api.md §12), which no
# schema can say: valid requests send times that have passed, in the forms the document allows.
PAST_TIMES = st.sampled_from(
    ["2026-11-26T09:15:00Z", "2026-11-26T10:15:00.5+01:00", "2025-02-28T23:59:59.123456-05:30", "2026-01-01T00:00:00Z"]
)
TRACKING_EVENTS = ("POST", "/warehouse/orders/{order_id}/tracking-events")


@pytest.fixture(scope="module")
def document(local_stack):
    """The document as the stack serves it; schemathesis itself does not fuzz the auth header."""
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_url(f"{local_stack.api_url}/_local/openapi.json", config=config)


@pytest.fixture(scope="module")
def fuzz_seller(local_stack):
    """A seller with an order in every state of §2 (made through the API), and the warehouse."""
    from tests.hardening.wire import Wire

    wire = Wire()
    portal, depot = seller(local_stack.api_url, wire), warehouse(local_stack.api_url, wire)
    order_ids = []
    for state in STATES:
        order_id = portal.create_order()["order_id"]
        for command in PATHS[state]:
            if command in ("cancel", "request"):
                answer = portal.request(
                    "POST", f"/orders/{order_id}/{'cancel' if command == 'cancel' else 'cancellation-request'}"
                )
            elif command in ("approve", "reject"):
                answer = depot.decide(order_id, command.upper() + "D" if command == "approve" else "REJECTED", "OTHER")
            else:  # a status move, with what it takes (a backorder's lines, a despatch's tracking number)
                resource, body, _ = http_call(command)
                answer = depot.post(resource.format(order_id=order_id), body)
            assert answer.status_code in (200, 202), answer.text
        order_ids.append(order_id)
    first_page = portal.request("GET", "/orders?limit=1").json()
    first_requests = depot.get("/warehouse/cancellation-requests?limit=1").json()
    # The feed fills as the events are delivered, a moment after the commands.
    first_events = wait_for(
        lambda: portal.request("GET", "/notifications?limit=1").json(), lambda page: page["next_token"], timeout=30
    )
    assert first_page["next_token"] and first_requests["next_token"], (first_page, first_requests)
    assert first_events["next_token"], first_events
    wire.assert_clean()
    tokens = {
        "/orders": first_page["next_token"],
        "/warehouse/cancellation-requests": first_requests["next_token"],
        "/notifications": first_events["next_token"],
    }
    return portal, depot, order_ids, tokens


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("route", ROUTES)
def test_generated_requests_get_documented_answers_and_never_a_server_error(
    local_stack, wire, document, fuzz_seller, route, mode, figures
):
    portal, depot, order_ids, tokens = fuzz_seller
    operation = document[route.path][route.method]
    statuses: Counter[int] = Counter()
    positive = mode is GenerationMode.POSITIVE
    # GET /notification-channels takes nothing (no parameter, no body): there is one valid request and no
    # invalid one to generate. The route's other answers are the auth matrix's and the wire tests'.
    takes_input = bool(operation.definition.raw.get("parameters")) or "requestBody" in operation.definition.raw
    if not takes_input and not positive:
        figures.note(f"fuzz {route.method} {route.path} (invalid)", "none: the route takes no input")
        return
    real_order = st.sampled_from(order_ids) if "{order_id}" in route.path and positive else st.none()
    # next_token is opaque: no client can make one up, so valid requests send one the API issued.
    real_token = st.sampled_from([tokens.get(route.path)]) if positive else st.none()
    auth = SigV4(depot.credentials, depot.region) if route.authorizer == "AWS_IAM" else None
    takes_url = positive and (route.method, route.path) == ("POST", "/notification-channels")
    # docs/api.md §13: decisions name distinct orders, which JSON Schema cannot say of objects in a list
    # (uniqueItems compares whole items): valid requests keep each order's first decision.
    distinct_decisions = positive and route.path == "/warehouse/cancellation-decisions"

    takes_times = positive and (route.method, route.path) == TRACKING_EVENTS
    # docs/api.md §11: a backorder names the order's own lines (no schema can), with ON_BACKORDER only.
    moves = positive and route.path == "/warehouse/orders/{order_id}/status"

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        order_id=st.one_of(st.none(), real_order),
        token=real_token,
        url=LOCAL_URLS if takes_url else st.none(),
        time=PAST_TIMES if takes_times else st.none(),
    )
    def fuzz(case, order_id, token, url, time):
        if url is not None and isinstance(case.body, dict):
            case.body = {**case.body, "url": url}
        if distinct_decisions and isinstance(case.body, dict) and isinstance(case.body.get("decisions"), list):
            first = {decision.get("order_id"): decision for decision in reversed(case.body["decisions"])}
            case.body = {**case.body, "decisions": list(reversed(first.values()))}
        if time is not None and isinstance(case.body, dict) and isinstance(case.body.get("events"), list):
            events = [{**event, "occurred_at": time} for event in case.body["events"] if isinstance(event, dict)]
            case.body = {**case.body, "events": events}
        if moves and isinstance(case.body, dict):
            case.body = _with_the_orders_lines(case.body)
        if order_id is not None:
            case.path_parameters = {**case.path_parameters, "order_id": order_id}
        if token is not None and (case.query or {}).get("next_token") is not None:
            case.query = {**case.query, "next_token": token}
        if auth is None:
            case.headers = {**(case.headers or {}), "Authorization": portal.token}
        response = case.call(base_url=local_stack.api_url, session=wire, auth=auth)
        statuses[response.status_code] += 1
        figures.add("generated_requests")
        case.validate_response(response, checks=CHECKS)

    fuzz()

    wire.assert_clean()
    figures.note(
        f"fuzz {route.method} {route.path} ({'valid' if positive else 'invalid'})",
        dict(sorted(statuses.items())),
    )
    assert sum(statuses.values()) >= (min(EXAMPLES_PER_MODE, 100) if takes_input else 1)
    if positive:
        # A request the document calls valid is accepted: answered by the rules (2xx, 404, 409), not
        # refused as malformed (400, 413, 415). A client generated from openapi.json sends what we take.
        accepted = sum(count for status, count in statuses.items() if status not in REFUSED_AS_MALFORMED)
        share = accepted / sum(statuses.values())
        figures.note(f"valid requests accepted, {route.method} {route.path}", f"{share:.1%}")
        assert share >= MIN_ACCEPTED_SHARE, dict(statuses)


def test_the_document_lists_every_success_of_post_orders(document):
    assert {"200", "201"} <= set(document["/orders"]["POST"].definition.raw["responses"])
