"""The functions' configuration: one typed model per function, every variable required (the stack sets them all)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from connect_state.config import agent_events_config, contact_events_config, enrichment_config

AGENT = {
    "AGENT_TABLE_NAME": "agent-state",
    "QUARANTINE_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/111122223333/quarantine",
    "STATE_TTL_DAYS": "90",
    "MAX_AGENT_EVENT_BYTES": "131072",
}
CONTACT = {
    "CONTACT_TABLE_NAME": "contact-state",
    "QUARANTINE_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/111122223333/quarantine",
    "EVENT_BUS_NAME": "contact-state-events",
    "STATE_TTL_DAYS": "90",
}
ENRICHMENT = {
    "CONTACT_TABLE_NAME": "contact-state",
    "CALL_SLOTS_TABLE_NAME": "call-slots",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/111122223333/dlq",
    "TRIGGER_QUEUE_URLS": json.dumps([["arn:aws:sqs:eu-west-2:111122223333:completed", "https://completed"]]),
    "RATE_PER_SECOND": "5",
    "MAX_ATTEMPTS": "8",
    "NOT_FOUND_ATTEMPTS": "5",
    "STATE_TTL_DAYS": "90",
}
CASES = [(agent_events_config, AGENT), (contact_events_config, CONTACT), (enrichment_config, ENRICHMENT)]


@pytest.mark.parametrize(("read", "environment"), CASES, ids=["agent events", "contact events", "enrichment"])
def test_the_environment_the_stack_sets_is_read_typed(
    read: object, environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = read()  # type: ignore[operator]
    assert config.state_ttl_days == 90


@pytest.mark.parametrize(
    ("read", "environment", "missing"),
    [(read, environment, name) for read, environment in CASES for name in environment],
)
def test_every_variable_is_required_no_default_hides_a_stack_that_forgot_one(
    read: object, environment: dict[str, str], missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(ValidationError, match=missing):
        read()  # type: ignore[operator]
