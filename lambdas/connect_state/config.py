"""The functions' configuration: the environment variables the stack sets, named once here (`Env`: the constructs, the
handlers and the tests all use it), read into one typed model per function once per container, by the handler's one
dependency factory (`PerContainer`).

Every variable is required and has no default here: the stack always sets every one, and its defaults live with the
deployment's settings (stacks/config.py, cdk.json), so a construct that forgot one fails at the first invocation
instead of running on a second, silent default. Plain pydantic (already in the layer) reads `os.environ` by alias:
pydantic-settings would add itself and python-dotenv to the layer for no more than that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connect_state.models.board_settings import WallboardSettings


class Env(StrEnum):
    """Every variable the stack sets on a function (stacks/constructs/*_consumer.py, contact_enrichment.py,
    wallboard_read_model.py)."""

    AGENT_TABLE_NAME = "AGENT_TABLE_NAME"
    CONTACT_TABLE_NAME = "CONTACT_TABLE_NAME"
    CALL_SLOTS_TABLE_NAME = "CALL_SLOTS_TABLE_NAME"
    QUARANTINE_QUEUE_URL = "QUARANTINE_QUEUE_URL"
    DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
    TRIGGER_QUEUE_URLS = "TRIGGER_QUEUE_URLS"  # JSON [[queue ARN, queue URL], ...]
    EVENT_BUS_NAME = "EVENT_BUS_NAME"
    STATE_TTL_DAYS = "STATE_TTL_DAYS"
    MAX_AGENT_EVENT_BYTES = "MAX_AGENT_EVENT_BYTES"
    RATE_PER_SECOND = "RATE_PER_SECOND"
    MAX_ATTEMPTS = "MAX_ATTEMPTS"
    NOT_FOUND_ATTEMPTS = "NOT_FOUND_ATTEMPTS"
    BOARD_TABLE_NAME = "BOARD_TABLE_NAME"
    WALLBOARD_SETTINGS = "WALLBOARD_SETTINGS"  # models.board_settings.WallboardSettings, as JSON
    CHANNEL_PUBLISH_URL = "CHANNEL_PUBLISH_URL"  # AppSync Events HTTP publish URL, or `disabled`
    CHANNEL_PUBLISH_AUTH = "CHANNEL_PUBLISH_AUTH"  # iam | none


class _FromEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class AgentEventsConfig(_FromEnvironment):
    agent_table_name: str = Field(min_length=3, alias=Env.AGENT_TABLE_NAME.value)
    quarantine_queue_url: str = Field(min_length=1, alias=Env.QUARANTINE_QUEUE_URL.value)
    state_ttl_days: int = Field(ge=1, alias=Env.STATE_TTL_DAYS.value)
    max_agent_event_bytes: int = Field(ge=1024, alias=Env.MAX_AGENT_EVENT_BYTES.value)


class ContactEventsConfig(_FromEnvironment):
    contact_table_name: str = Field(min_length=3, alias=Env.CONTACT_TABLE_NAME.value)
    quarantine_queue_url: str = Field(min_length=1, alias=Env.QUARANTINE_QUEUE_URL.value)
    event_bus_name: str = Field(min_length=1, alias=Env.EVENT_BUS_NAME.value)
    state_ttl_days: int = Field(ge=1, alias=Env.STATE_TTL_DAYS.value)


class EnrichmentConfig(_FromEnvironment):
    contact_table_name: str = Field(min_length=3, alias=Env.CONTACT_TABLE_NAME.value)
    call_slots_table_name: str = Field(min_length=3, alias=Env.CALL_SLOTS_TABLE_NAME.value)
    dead_letter_queue_url: str = Field(min_length=1, alias=Env.DEAD_LETTER_QUEUE_URL.value)
    # the trigger queues' ARN → URL, to postpone a message (backoff); the stack writes [[arn, url], ...]
    queue_urls: dict[str, str] = Field(alias=Env.TRIGGER_QUEUE_URLS.value)
    rate_per_second: float = Field(gt=0, alias=Env.RATE_PER_SECOND.value)
    max_attempts: int = Field(ge=1, alias=Env.MAX_ATTEMPTS.value)
    not_found_attempts: int = Field(ge=1, alias=Env.NOT_FOUND_ATTEMPTS.value)
    state_ttl_days: int = Field(ge=1, alias=Env.STATE_TTL_DAYS.value)

    @field_validator("queue_urls", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        return dict(json.loads(value)) if isinstance(value, str) else value


PUBLISHING_DISABLED = "disabled"


class BoardConfig(_FromEnvironment):
    agent_table_name: str = Field(min_length=3, alias=Env.AGENT_TABLE_NAME.value)
    contact_table_name: str = Field(min_length=3, alias=Env.CONTACT_TABLE_NAME.value)
    board_table_name: str = Field(min_length=3, alias=Env.BOARD_TABLE_NAME.value)
    settings: WallboardSettings = Field(alias=Env.WALLBOARD_SETTINGS.value)
    # `disabled`: nothing is published (the rows and sequence numbers are still kept), until a channel service exists.
    channel_publish_url: str = Field(min_length=1, alias=Env.CHANNEL_PUBLISH_URL.value)
    channel_publish_auth: Literal["iam", "none"] = Field(alias=Env.CHANNEL_PUBLISH_AUTH.value)

    @field_validator("settings", mode="before")
    @classmethod
    def _settings(cls, value: object) -> object:
        return WallboardSettings.from_environment(value) if isinstance(value, str) else value

    @property
    def publishing(self) -> bool:
        return self.channel_publish_url != PUBLISHING_DISABLED


def board_config() -> BoardConfig:
    return BoardConfig.model_validate(dict(os.environ))


def agent_events_config() -> AgentEventsConfig:
    return AgentEventsConfig.model_validate(dict(os.environ))


def contact_events_config() -> ContactEventsConfig:
    return ContactEventsConfig.model_validate(dict(os.environ))


def enrichment_config() -> EnrichmentConfig:
    return EnrichmentConfig.model_validate(dict(os.environ))


D = TypeVar("D")


class PerContainer(Generic[D]):
    """A handler's one dependency factory (its `dependencies`): builds the configuration, clients, stores and caches at
    the first invocation (not at import, so tests and the demo set the environment first) and keeps them while the
    container is warm. `reset()` forgets them, as a new container would; `reset(build)` uses another factory from then
    on (DescribeContact answered by the tests' stub or the demo's simulator). Only tests and the demo reset."""

    def __init__(self, build: Callable[[], D]) -> None:
        self._default = build
        self._build = build
        self._built: D | None = None

    def __call__(self) -> D:
        if self._built is None:
            self._built = self._build()
        return self._built

    def reset(self, build: Callable[[], D] | None = None) -> None:
        """A new container from the next call on, built by `build` (None: the handler's own factory)."""
        self._build = build or self._default
        self._built = None
