"""Fixtures shared by every layer: fake AWS credentials, moto, the table from template.yaml, and the local
stacks that the end-to-end and hardening tests share (one of each per pytest worker, started when first
asked for)."""

from __future__ import annotations

import os

import pytest

from tests.support.scheduling import pytest_collection_modifyitems  # noqa: F401 - the hook, registered here

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_REGION": "eu-west-2",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "TABLE_NAME": "orders-test",
        "NOTIFICATIONS_TABLE_NAME": "notifications-test",
        "TRACKING_TABLE_NAME": "tracking-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PORTAL_ORIGIN": "https://portal.example.com",
    }
)
for variable in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(variable, None)


def _build_once_what_every_mock_builds_again() -> None:
    """Two costs every test's moto paid again, paid once per worker: the service models each new botocore
    session read from JSON (one loader for every session; the models are only read, and the search path
    boto3 adds to the loader at each new session is added once), and the RSA key
    moto's KMS generates for the encrypted tables' default key (one key per key spec: these keys sign nothing
    a test reads). Together they were most of the `aws` fixture's set-up, run before each of some 500 tests:
    0.20 s a time before, 0.06 s after (measured in one process)."""
    import functools

    import botocore.session
    from moto.kms import models as kms_models

    create_loader = botocore.session.create_loader

    class SearchPaths(list[str]):
        def append(self, path: str) -> None:
            if path not in self:
                super().append(path)

    def shared_loader(*arguments: object) -> object:
        loader = create_loader(*arguments)
        loader._search_paths = SearchPaths(loader.search_paths)
        return loader

    botocore.session.create_loader = functools.cache(shared_loader)
    kms_models.generate_private_key = functools.cache(kms_models.generate_private_key)


_build_once_what_every_mock_builds_again()


@pytest.fixture
def aws():
    """moto in-process, with the orders and notifications tables created from template.yaml's own definitions."""
    from moto import mock_aws

    from infra.local.moto_dynamodb import patch_dynamodb
    from infra.template import NOTIFICATIONS_TABLE, TRACKING_TABLE, table_definition
    from orders import settings

    patch_dynamodb()
    with mock_aws():
        settings.reset()
        client = settings.dynamodb()  # the functions' own client: one client fewer to make for each test
        client.create_table(**table_definition(os.environ["TABLE_NAME"]))
        client.create_table(**table_definition(os.environ["NOTIFICATIONS_TABLE_NAME"], NOTIFICATIONS_TABLE))
        client.create_table(**table_definition(os.environ["TRACKING_TABLE_NAME"], TRACKING_TABLE))
        yield
        settings.reset()


@pytest.fixture
def notification_channels(aws, monkeypatch):
    """template.yaml's topic, queues and warehouse subscription in moto, and the notifier's TOPIC_ARN set.

    The notifier's pause before reporting a failed publish is off: retries follow at once.
    """
    from orders import settings
    from tests.support.notifications import create_channels

    channels = create_channels()
    monkeypatch.setenv("TOPIC_ARN", channels.topic_arn)
    monkeypatch.setenv("PUBLISH_RETRY_PAUSE_SECONDS", "0")
    settings.reset()
    yield channels
    settings.reset()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """The local stack as `make run` starts it (its own process, free ports), with the template's timers.

    Every end-to-end and hardening module that needs no special timer shares it: each test acts as a
    seller of its own (tests.support.local_stack.new_seller), so tests share the stack but not their data.
    """
    from tests.support.local_stack import start_stack

    running = start_stack(tmp_path_factory.mktemp("stack") / "orders-local.log")
    yield running
    code = running.stop()
    assert code == 0, f"orders-local exited with {code} on Ctrl-C:\n{running.output()[-3000:]}"
    running.assert_clean()


@pytest.fixture(scope="session")
def fast_stack(tmp_path_factory: pytest.TempPathFactory):
    """A second stack, for the tests of timers: requests due in FAST_SLA_SECONDS, deliveries retried each
    second (tests.support.local_stack.FAST_TIMERS), and moto's recorder ready to count AWS calls."""
    from tests.support.local_stack import FAST_TIMERS, start_stack

    directory = tmp_path_factory.mktemp("fast-stack")
    running = start_stack(
        directory / "orders-local.log",
        env={**FAST_TIMERS, "MOTO_RECORDER_FILEPATH": str(directory / "moto-recording")},
    )
    yield running
    code = running.stop()
    assert code == 0, f"orders-local exited with {code} on Ctrl-C:\n{running.output()[-3000:]}"
    running.assert_clean()


def pytest_collection_finish(session: pytest.Session) -> None:
    from infra.local.collector import collect_less

    collect_less()
