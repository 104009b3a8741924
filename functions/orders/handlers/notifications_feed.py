"""GET /notifications: the seller's feed of events, newest first (docs/api.md §7)."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.api import app, documented, handler, seller
from orders.models import PageLimit
from orders.notification import http  # noqa: F401 - the room's errors, registered on the resolver
from orders.notification.models import Notification, NotificationPage
from orders.notification.store import NotificationStore

__all__ = ["handler"]

_store = NotificationStore()


@app.get(
    "/notifications",
    summary="The seller's events of the last 90 days, newest first",
    responses=documented(HTTPStatus.OK, "A page of events", body=NotificationPage),
    tags=["notifications"],
)
def list_notifications(
    limit: Annotated[PageLimit, Query(description="Events per page")] = 25,
    next_token: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
) -> Response[NotificationPage]:
    events, token = _store.feed(seller().seller_id, limit=limit, page_token=next_token)
    body = NotificationPage.model_construct(
        notifications=[Notification.model_validate(event) for event in events], next_token=token
    )
    return Response(status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=body)
