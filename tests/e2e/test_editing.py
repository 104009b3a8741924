"""The help centre's related articles, over HTTP: "How do I edit an order?", "How do I change the
courier service on an order?", "How do I edit the recipient and delivery address on an order?".

"Bezos sellers can automatically edit orders that have not been sent to the warehouse."
"""

from __future__ import annotations

from tests.support.local_stack import LOCAL_ORIGIN, Portal, RunningStack, Warehouse, session


def patch(portal: Portal, order: dict, body: dict, **headers: str):
    return portal.request("PATCH", f"/orders/{order['order_id']}", body, **headers)


def test_the_seller_changes_the_courier_service_of_an_order_not_yet_in_the_warehouse(portal: Portal):
    # Given an order the seller has just sent, and its ETag as the order page read it
    order = portal.create_order()
    read = portal.request("GET", f"/orders/{order['order_id']}")
    assert read.json()["editing"] == {"option": "EDIT", "unavailable_reason": None}
    etag = read.headers["ETag"]

    # When the seller picks another courier service and saves, naming the version they edited
    edited = patch(portal, order, {"courier_service": "DPD_NEXT_DAY"}, **{"If-Match": etag})

    # Then it is changed at once, one version on, and the history says what changed and who did it
    assert edited.status_code == 200, edited.text
    assert edited.json()["courier_service"] == "DPD_NEXT_DAY"
    assert edited.headers["ETag"] == f'"{order["version"] + 1}"'
    entry = edited.json()["history"][-1]
    assert (entry["event"], entry["changed"], entry["by"]) == (
        "ORDER_EDITED",
        ["courier_service"],
        f"seller:{portal.seller_id}",
    )
    assert portal.request("GET", f"/orders/{order['order_id']}").json() == edited.json()


def test_the_seller_corrects_the_recipient_and_address(portal: Portal):
    # Given an order sent with a wrong address
    order = portal.create_order()
    corrected = {**order["recipient"], "address_line1": "13 St James's Square", "postcode": "SW1Y 4LB"}

    # When the seller edits the recipient (the whole object)
    edited = patch(portal, order, {"recipient": corrected})

    # Then the address is the corrected one; editing again to the same address changes nothing
    assert edited.status_code == 200 and edited.json()["recipient"] == corrected
    again = patch(portal, order, {"recipient": corrected})
    assert again.status_code == 200 and again.json()["version"] == edited.json()["version"]


def test_an_order_in_the_warehouse_cannot_be_edited_only_cancelled_by_request(portal: Portal, warehouse: Warehouse):
    # Given an order the warehouse has already
    order = portal.create_order()
    assert warehouse.move(order["order_id"], "SENT_TO_WAREHOUSE").status_code == 200
    read = portal.request("GET", f"/orders/{order['order_id']}").json()
    assert read["editing"] == {"option": "NONE", "unavailable_reason": "ORDER_IN_WAREHOUSE"}

    # When the seller tries to edit the lines (how a pending order is partly cancelled)
    refused = patch(portal, order, {"items": [{"sku": "TSHIRT-RED-M", "quantity": 1}]})

    # Then 409, and the detail points at the cancellation request instead
    assert refused.status_code == 409 and refused.json()["code"] == "ORDER_IN_WAREHOUSE"
    assert "request a cancellation" in refused.json()["detail"].lower()
    assert portal.request("GET", f"/orders/{order['order_id']}").json() == read


def test_two_tabs_cannot_overwrite_each_others_edits(portal: Portal):
    # Given two tabs that read the same version
    order = portal.create_order()
    etag = portal.request("GET", f"/orders/{order['order_id']}").headers["ETag"]
    first = patch(portal, order, {"courier_service": "DPD_NEXT_DAY"}, **{"If-Match": etag})
    assert first.status_code == 200

    # When the second tab saves its own edit of the version it read
    second = patch(portal, order, {"courier_service": "EVRI_48"}, **{"If-Match": etag})

    # Then 412: the order changed meanwhile; the first tab's edit stands
    assert second.status_code == 412
    assert second.json()["code"] == "PRECONDITION_FAILED" and second.json()["version"] == order["version"] + 1
    assert portal.request("GET", f"/orders/{order['order_id']}").json()["courier_service"] == "DPD_NEXT_DAY"


def test_a_browser_may_send_patch_with_if_match_and_read_the_etag(stack: RunningStack, portal: Portal):
    # Given the portal's preflight for a PATCH carrying If-Match
    order = portal.create_order()
    preflight = session().options(
        f"{stack.api_url}/orders/{order['order_id']}",
        headers={
            "Origin": LOCAL_ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization,content-type,if-match",
        },
        timeout=10,
    )
    # Then the browser may send it
    assert preflight.status_code == 200
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {header.strip().lower() for header in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match"} <= allowed
    # And the script may read the ETag of the answer
    edited = patch(portal, order, {"courier_service": "DPD_NEXT_DAY"}, Origin=LOCAL_ORIGIN, **{"If-Match": '"1"'})
    assert edited.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN
    assert "ETag" in [name.strip() for name in edited.headers["Access-Control-Expose-Headers"].split(",")]
    assert edited.headers["ETag"] == '"2"'
