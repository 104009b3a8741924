"""PATCH /orders/{order_id}: a seller edits an order not yet sent to the warehouse."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from orders.api import (
    IfMatch,
    OrderId,
    app,
    command_response,
    documented,
    expected_versions,
    handler,
    order_store,
    seller,
)
from orders.domain import Action, Details
from orders.models import Order, OrderEdit

__all__ = ["handler"]


@app.patch(
    "/orders/<order_id>",
    summary="Edit an order that is not yet in the warehouse",
    responses=documented(
        HTTPStatus.OK,
        "Edited (or already as sent)",
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.PRECONDITION_FAILED,
    ),
    tags=["seller"],
)
def edit_order(
    order_id: OrderId,
    edit: OrderEdit,
    if_match: IfMatch = None,
) -> Response[Order]:
    details = Details(changes=edit.changes(), expected_versions=expected_versions(if_match))
    # Replacing the lines sends an order on backorder back to PENDING (docs/api.md §11).
    action = Action.EDIT_ITEMS if "items" in (details.changes or {}) else Action.EDIT
    return command_response(action, order_store().apply(order_id, action, seller(), details))
