"""LocalStack in-process, as a test or a script would use it: free ports, a clean stop, nothing left behind."""

from __future__ import annotations

import os

import pytest

from infra.local.stack import LocalStack
from tests.support.local_stack import Portal, Warehouse


def test_a_local_stack_in_process_serves_the_api_and_leaves_the_process_as_it_was():
    environment = dict(os.environ)

    # Given a stack on free ports, without the demo data
    with LocalStack(port=0, moto_port=0, portal_port=0, seed_demo=False) as stack:
        assert stack.port != 0 and stack.moto_port != 0
        # When a seller sends an order and the warehouse takes it
        portal = Portal(stack.api_url, "S-in-process")
        order_id = portal.create_order()["order_id"]
        moved = Warehouse(stack.api_url).move(order_id, "SENT_TO_WAREHOUSE")
        # Then the API answers as deployed, and the handlers saw the local environment
        assert moved.status_code == 200
        assert os.environ["AWS_ENDPOINT_URL"] == stack.aws_url
        assert portal.request("GET", "/orders").json()["orders"][0]["order_id"] == order_id
        # And there is only ever one stack per process (moto's state is per process)
        with pytest.raises(RuntimeError):
            LocalStack(port=0, moto_port=0, portal_port=0).start()

    # Once stopped, the process's environment is what it was
    assert dict(os.environ) == environment
