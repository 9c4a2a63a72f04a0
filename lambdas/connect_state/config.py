"""The functions' configuration: environment variables set by the stack, validated once per container."""

from __future__ import annotations

import json
import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class AgentEventsConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    agent_table_name: str = Field(min_length=3)
    quarantine_queue_url: str = Field(min_length=1)
    state_ttl_days: int = Field(ge=1)
    max_agent_event_bytes: int = Field(ge=1024)


@cache
def agent_events_config() -> AgentEventsConfig:
    """Read at the first invocation, not at import, so tests set the environment before they call the handler."""
    return AgentEventsConfig(
        agent_table_name=os.environ["AGENT_TABLE_NAME"],
        quarantine_queue_url=os.environ["QUARANTINE_QUEUE_URL"],
        state_ttl_days=int(os.environ.get("STATE_TTL_DAYS", "90")),
        max_agent_event_bytes=int(os.environ.get("MAX_AGENT_EVENT_BYTES", "131072")),
    )


class ContactEventsConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    contact_table_name: str = Field(min_length=3)
    quarantine_queue_url: str = Field(min_length=1)
    event_bus_name: str = Field(min_length=1)
    state_ttl_days: int = Field(ge=1)


@cache
def contact_events_config() -> ContactEventsConfig:
    """Read at the first invocation, not at import, so tests set the environment before they call the handler."""
    return ContactEventsConfig(
        contact_table_name=os.environ["CONTACT_TABLE_NAME"],
        quarantine_queue_url=os.environ["QUARANTINE_QUEUE_URL"],
        event_bus_name=os.environ["EVENT_BUS_NAME"],
        state_ttl_days=int(os.environ.get("STATE_TTL_DAYS", "90")),
    )


class EnrichmentConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    contact_table_name: str = Field(min_length=3)
    call_slots_table_name: str = Field(min_length=3)
    dead_letter_queue_url: str = Field(min_length=1)
    queue_urls: dict[str, str]  # the trigger queues' ARN → URL, to postpone a message (backoff)
    rate_per_second: float = Field(gt=0)
    max_attempts: int = Field(ge=1)
    not_found_attempts: int = Field(ge=1)
    state_ttl_days: int = Field(ge=1)


@cache
def enrichment_config() -> EnrichmentConfig:
    """Read at the first invocation, not at import, so tests set the environment before they call the handler."""
    return EnrichmentConfig(
        contact_table_name=os.environ["CONTACT_TABLE_NAME"],
        call_slots_table_name=os.environ["CALL_SLOTS_TABLE_NAME"],
        dead_letter_queue_url=os.environ["DEAD_LETTER_QUEUE_URL"],
        queue_urls=dict(json.loads(os.environ["TRIGGER_QUEUE_URLS"])),  # the stack writes [[arn, url], ...]
        rate_per_second=float(os.environ.get("RATE_PER_SECOND", "5")),
        max_attempts=int(os.environ.get("MAX_ATTEMPTS", "8")),
        not_found_attempts=int(os.environ.get("NOT_FOUND_ATTEMPTS", "5")),
        state_ttl_days=int(os.environ.get("STATE_TTL_DAYS", "90")),
    )
