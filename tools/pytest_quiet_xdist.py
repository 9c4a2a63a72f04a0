"""A pytest plugin for `make test`: without pytest-xdist's "bringing up nodes..." lines.

    python -m pytest -n 2 -p tools.pytest_quiet_xdist

With -q, xdist prints "bringing up nodes..." (twice when the output is not a terminal, as in CI) while its workers
start: a status line that a reader takes for a step that may hang or fail. xdist has no option for it; its terminal
reporter's two status methods are silenced here, on the one instance xdist registers. The test results, errors and
summary are pytest's own and unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_plugin_registered(plugin: Any, plugin_name: str, manager: pytest.PytestPluginManager) -> None:
    if plugin_name == "terminaldistreporter":
        plugin.ensure_show_status = lambda: None
        plugin.rewrite = lambda *args, **kwargs: None
