"""Unit tests are pure: any attempt to open a socket fails the test."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("unit tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
