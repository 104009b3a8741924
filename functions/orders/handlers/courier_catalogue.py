"""GET /courier-services and GET /courier-statuses: the catalogue and what each status means (docs/api.md §12).

Both answer orders.couriers' data as it is, with no request to anything: the portal and the sellers'
own systems say what the API says.
"""

from dataclasses import asdict
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types

from orders.api import app, documented, handler
from orders.couriers import COURIER_SERVICES, COURIER_STATUSES
from orders.models import CourierServices, CourierStatuses

__all__ = ["handler"]

# The lists change only with a deployment: a browser may keep them for a few minutes.
_CACHE = {"Cache-Control": "private, max-age=300"}


@app.get(
    "/courier-services",
    summary="The courier services an order may name",
    responses=documented(HTTPStatus.OK, "The catalogue", body=CourierServices),
    tags=["seller"],
)
def list_courier_services() -> Response[CourierServices]:
    body = CourierServices.model_validate({"courier_services": [asdict(service) for service in COURIER_SERVICES]})
    return Response(status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=body, headers=_CACHE)


@app.get(
    "/courier-statuses",
    summary="What each courier status means",
    responses=documented(HTTPStatus.OK, "The nine statuses", body=CourierStatuses),
    tags=["seller"],
)
def list_courier_statuses() -> Response[CourierStatuses]:
    body = CourierStatuses.model_validate({"courier_statuses": [asdict(meaning) for meaning in COURIER_STATUSES]})
    return Response(status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=body, headers=_CACHE)
