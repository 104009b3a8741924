"""The sellers' notification room (docs/api.md §4 and §7): what a change tells, and how it reaches the seller.

    events.py     a stream record -> the §4 event -> its SNS message (and the TEST event)
    store.py      the notifications table: each seller's webhook channels and feed
    transactions.py  a DynamoDB transaction, and what its cancellation reasons mean (retry, or the rules' answer)
    webhooks.py   which URLs may be called, and the signature
    addresses.py  the IP addresses a webhook may reach: IANA's special-purpose registries as data
    client.py     the POST itself: to the checked address, under a hard 5 s deadline
    delivery.py   one event to its seller's feed and channels
    models.py     the room's HTTP bodies: the event, the feed's page, channels
    http.py       the room's path parameter and errors as problems, registered on orders.api's resolver

Its arrows point into the orders room and never back: it reads orders.item (a stream image is a
stored order), orders.models (an event shows the order's cancellation as GET /orders/{id} does),
orders.dynamodb, orders.settings and orders.api's resolver; nothing of the orders room imports it.
"""
