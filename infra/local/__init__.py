"""The local stack of `make run`: template.yaml on one machine, AWS emulated by moto's server.

`stack.py` assembles it; `gateway.py` is API Gateway, `auth.py` its Cognito and IAM authorizers,
`functions.py` Lambda, `stream_poller.py` the stream's event source mapping, `resources.py` the
template's resources in moto, `moto_atomic.py` the lock that makes moto's DynamoDB writes atomic,
`local_routes.py` and `inbox.py` the /_local/ routes, `demo.py` the demo data.
"""
