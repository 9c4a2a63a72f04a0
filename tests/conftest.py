"""Shared fixtures: a fake AWS environment (no test reaches AWS) and the real Amazon Connect samples."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

# Set before any handler module is imported: Powertools reads these when its Logger/Metrics/Tracer are created.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_SERVICE_NAME": "connect-realtime-state",
        "POWERTOOLS_METRICS_NAMESPACE": "ConnectRealtimeState",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        # jsii prints a banner about Node 20 on every start; the Makefile silences it the same way.
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    }
)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-process fake of every AWS API the functions call."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket fails the test: for the tests of pure code (every unit test, the simulator's)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("this test must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
