"""Cold start: what tracing needs is loaded only when tracing is on, and each function builds one client per service."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
HANDLERS = [
    "connect_state.handlers.agent_events",
    "connect_state.handlers.contact_events",
    "connect_state.handlers.enrichment",
]


def loaded_after_import(module: str, trace_disabled: str) -> list[str]:
    probe = (
        f"import sys; sys.path.insert(0, {str(LAMBDAS)!r}); import {module}; "
        "from connect_state.observability import tracer; "
        "print(sorted(n for n in ('aws_xray_sdk.core',) if n in sys.modules), type(tracer).__name__)"
    )
    environment = {**os.environ, "POWERTOOLS_TRACE_DISABLED": trace_disabled, "LAMBDA_TASK_ROOT": str(LAMBDAS)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=environment)
    return result.stdout.split()


@pytest.mark.parametrize("module", HANDLERS)
def test_tracing_off_the_xray_sdk_is_not_loaded(module: str) -> None:
    assert loaded_after_import(module, "true") == ["[]", "NoneType"]


def test_tracing_on_the_handler_is_traced_by_powertools() -> None:
    assert loaded_after_import(HANDLERS[0], "false") == ["['aws_xray_sdk.core']", "Tracer"]


def test_the_enrichment_function_builds_one_client_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from connect_state.handlers import enrichment

    built: Counter[str] = Counter()
    real_client = boto3.client

    def counting_client(service: str, *args: Any, **kwargs: Any) -> Any:
        built[service] += 1
        return real_client(service, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(boto3, "client", counting_client)
    monkeypatch.setenv("CONTACT_TABLE_NAME", "contact-state")
    monkeypatch.setenv("CALL_SLOTS_TABLE_NAME", "call-slots")
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", "https://sqs.eu-west-2.amazonaws.com/111122223333/dlq")
    monkeypatch.setenv("TRIGGER_QUEUE_URLS", "[]")
    monkeypatch.setenv("RATE_PER_SECOND", "5")
    monkeypatch.setenv("MAX_ATTEMPTS", "5")
    monkeypatch.setenv("NOT_FOUND_ATTEMPTS", "3")
    monkeypatch.setenv("STATE_TTL_DAYS", "90")
    enrichment.build()
    assert built == {"dynamodb": 1, "sqs": 1, "connect": 1}
