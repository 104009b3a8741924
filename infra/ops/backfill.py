"""`orders-backfill-listing-keys`: give every order of a deployed table its keys of the listing by status.

Orders written before the listing by status was keyed per seller (README, "Moving a deployed stack to
the per-seller indexes") have no `status_keys` and `seller_status`, so the `seller-orders-by-status`
index does not hold them. The store adds both to an order the first time it moves one, and this tool
adds them to the rest: a Scan of the table, page by page, and for each order still without them one
conditional UpdateItem (`attribute_not_exists(status_keys)` and the status it read), so that an order
moved meanwhile, which got its keys from its own move, is left as it is. Running it twice changes
nothing the second time. It prints what it did.

    orders-backfill-listing-keys --table orders-OrdersTable-ABC123 [--region eu-west-2] [--dry-run]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from botocore.session import get_session

from orders import item
from orders.domain import OrderStatus
from orders.dynamodb import to_item


@dataclass
class Backfilled:
    scanned: int = 0
    written: int = 0
    moved_meanwhile: int = 0  # a move gave them their keys first


def backfill(client: Any, table_name: str, *, dry_run: bool = False) -> Backfilled:
    """Every order of `table_name` without listing keys given them, once."""
    done = Backfilled()
    scan: dict[str, Any] = {
        "TableName": table_name,
        "ProjectionExpression": "order_id, seller_id, #status, status_keys",
        "ExpressionAttributeNames": {"#status": "status"},
    }
    while True:
        page = client.scan(**scan)
        for found in page["Items"]:
            done.scanned += 1
            if "status_keys" in found:
                continue
            if not dry_run and not _give_keys(client, table_name, found):
                done.moved_meanwhile += 1
                continue
            done.written += 1
        if "LastEvaluatedKey" not in page:
            return done
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _give_keys(client: Any, table_name: str, found: dict[str, Any]) -> bool:
    seller, status = found["seller_id"]["S"], found["status"]["S"]
    keys = {value.value: item.seller_status(seller, value) for value in OrderStatus}
    try:
        client.update_item(
            TableName=table_name,
            Key={"order_id": found["order_id"]},
            UpdateExpression="SET status_keys = :keys, seller_status = :key",
            ConditionExpression="attribute_not_exists(status_keys) AND #status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":keys": keys, ":key": keys[status], ":status": status}),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="orders-backfill-listing-keys",
        description="Give every order its keys of the per-seller listing by status (once; safe to run again).",
    )
    parser.add_argument("--table", required=True, help="the orders table's name (the stack's OrdersTableName)")
    parser.add_argument("--region", help="its region (default: the AWS configuration's)")
    parser.add_argument("--dry-run", action="store_true", help="count what would be written; write nothing")
    arguments = parser.parse_args(argv)
    client = get_session().create_client("dynamodb", region_name=arguments.region)
    try:
        done = backfill(client, arguments.table, dry_run=arguments.dry_run)
    except ClientError as error:
        print(f"orders-backfill-listing-keys: {error}", file=sys.stderr)
        return 1
    verb = "would give" if arguments.dry_run else "gave"
    print(
        f"{done.scanned} orders read; {verb} {done.written} their listing keys; "
        f"{done.moved_meanwhile} got them from a move meanwhile"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
