"""Many pending cancellation requests, fast: copies of one that the store's own writes made."""

from __future__ import annotations

from datetime import datetime, timedelta

from orders import item
from orders.domain import WAREHOUSE
from orders.dynamodb import timestamp, to_item
from orders.store import OrderStore


def copies(store: OrderStore, order_id: str, count: int, seller_count: int = 7) -> list[str]:
    """`count` more orders exactly like `order_id` as its request's write left it (ids, sellers, due times apart).

    Written in batches: the store's own writes make the first, and a thousand of them in moto take a minute.
    """
    original = store.get(order_id, WAREHOUSE)
    request = original[item.REQUEST]
    made = []
    for number in range(count):
        copy_id = item.order_id_for(f"S-{number % seller_count}", f"COPY-{number}")
        due_at = timestamp(
            datetime.fromisoformat(request["due_at"].replace("Z", "+00:00")) + timedelta(milliseconds=number % 97)
        )
        made.append(
            {
                **original,
                "order_id": copy_id,
                "seller_id": f"S-{number % seller_count}",
                "reference": f"COPY-{number}",
                item.REQUEST: {**request, "due_at": due_at},
                **item.queue_keys(due_at, copy_id),
            }
        )
    client = store.client
    for start in range(0, len(made), 25):
        batch = [{"PutRequest": {"Item": to_item(copy)}} for copy in made[start : start + 25]]
        client.batch_write_item(RequestItems={store.table_name: batch})
    return [copy["order_id"] for copy in made]
