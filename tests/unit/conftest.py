"""Unit tests are pure: any attempt to open a socket fails the test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_network(no_network: None) -> None:
    """Every unit test runs with tests/conftest.py's no_network."""
