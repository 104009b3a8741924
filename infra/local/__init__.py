"""The local stack of `make run`: template.yaml on one machine, AWS emulated by moto's server.

`stack.py` wires it together, `cli.py` is the `orders-local` command line and `banner.py` what it
prints; `moto_server.py` is moto's server and `served.py` every server's thread; `gateway.py` is
API Gateway, `auth.py` its Cognito and IAM authorizers, `functions.py` Lambda, `stream_poller.py`
and `queue_poller.py` the event source mappings, `schedules.py` EventBridge's rates,
`resources.py` the template's resources in moto, `moto_dynamodb.py` the lock that makes moto's
DynamoDB writes atomic and its quick item results, `local_routes.py` and `inbox.py` the /_local/
routes, `demo.py` the demo data, `portal_server.py` the portal's static site and
`webhook_receiver.py` the demo sellers' own systems.
"""
