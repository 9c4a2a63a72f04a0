"""Deployment configuration: the `cdk.json` context (or `-c key=value`), typed and validated at synth.

Every error names the context key and the form it expects, so a typo fails `cdk synth` with one line
instead of a stack trace or, worse, a stack that deploys and never receives an event.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_PARTITION = r"aws(?:-cn|-us-gov|-iso|-iso-b)?"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
CONNECT_INSTANCE_ARN = re.compile(
    rf"^arn:{_PARTITION}:connect:(?P<region>{_REGION}):(?P<account>\d{{12}}):instance/(?P<id>[0-9a-f-]{{36}})$"
)
KINESIS_STREAM_ARN = re.compile(
    rf"^arn:{_PARTITION}:kinesis:(?P<region>{_REGION}):(?P<account>\d{{12}}):stream/[A-Za-z0-9_.-]{{1,128}}$"
)
KMS_KEY_ARN = re.compile(rf"^arn:{_PARTITION}:kms:{_REGION}:\d{{12}}:key/[0-9a-f-]{{36}}$")
SNS_TOPIC_ARN = re.compile(rf"^arn:{_PARTITION}:sns:{_REGION}:\d{{12}}:[A-Za-z0-9_-]{{1,256}}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EVENT_BUS_NAME = re.compile(r"^[A-Za-z0-9._\-/]{1,256}$")

EXAMPLE_INSTANCE_ARN = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"


class ConfigError(ValueError):
    """A context value is missing or malformed; the message is one line meant for the person running synth."""


class AgentStreamSettings(BaseModel):
    """How the agent event consumer reads Kinesis (see README "Configuration")."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    batch_size: int = Field(100, ge=1, le=10_000, alias="batchSize")
    max_batching_window_seconds: int = Field(1, ge=0, le=300, alias="maxBatchingWindowSeconds")
    parallelization_factor: int = Field(1, ge=1, le=10, alias="parallelizationFactor")
    retry_attempts: int = Field(5, ge=0, le=10_000, alias="retryAttempts")
    max_record_age_seconds: int = Field(3600, ge=60, le=604_800, alias="maxRecordAgeSeconds")


class EnrichmentSettings(BaseModel):
    """DescribeContact enrichment (README "Enrichment"): how fast, how long to wait for COMPLETED, how often to try."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = True
    # Calls per second for the whole deployment; the account's quota (10/s, burst 15) is shared with other apps.
    rate_per_second: float = Field(5, gt=0, le=100, alias="ratePerSecond")
    # SQS delay queues wait at most 15 minutes.
    disconnected_delay_minutes: int = Field(15, ge=0, le=15, alias="disconnectedDelayMinutes")
    max_attempts: int = Field(8, ge=1, le=30, alias="maxAttempts")
    not_found_attempts: int = Field(5, ge=1, le=30, alias="notFoundAttempts")


class AlarmSettings(BaseModel):
    """Where alarms go and when they fire."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    email: str | None = None
    topic_arn: str | None = Field(None, alias="topicArn")
    iterator_age_seconds: int = Field(60, ge=1, alias="iteratorAgeSeconds")
    end_to_end_lag_seconds: int = Field(30, ge=1, alias="endToEndLagSeconds")
    enrichment_backlog_age_seconds: int = Field(900, ge=60, alias="enrichmentBacklogAgeSeconds")
    # Per minute. 0: the first error or throttle alarms (the functions retry, so any is worth a look).
    function_errors: int = Field(0, ge=0, alias="functionErrors")
    function_throttles: int = Field(0, ge=0, alias="functionThrottles")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError(f"expected an email address such as oncall@example.com, got {value!r}")
        return value

    @field_validator("topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and not SNS_TOPIC_ARN.match(value):
            raise ValueError(
                f"expected an SNS topic ARN such as arn:aws:sns:eu-west-2:111122223333:oncall, got {value!r}"
            )
        return value


class DeploymentConfig(BaseModel):
    """The whole context the stack reads; attribute names are Python, aliases are the cdk.json keys."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    connect_instance_arns: tuple[str, ...] = Field(alias="connectInstanceArn")
    agent_event_stream_arn: str | None = Field(None, alias="agentEventStreamArn")
    state_ttl_days: int = Field(90, ge=1, le=3650, alias="stateTtlDays")
    kms_key_arn: str | None = Field(None, alias="kmsKeyArn")
    log_level: str = Field("INFO", alias="logLevel")
    tracing: bool = True
    agent_stream: AgentStreamSettings = Field(default_factory=AgentStreamSettings, alias="agentStream")
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    enrichment: EnrichmentSettings = Field(default_factory=EnrichmentSettings)
    max_agent_event_bytes: int = Field(131_072, ge=1024, le=1_048_576, alias="maxAgentEventBytes")
    # Where `Contact Abandoned` is published: None creates a project bus; "default" or a name uses that bus.
    event_bus_name: str | None = Field(None, alias="eventBusName")
    # Days an EventBridge archive keeps the contact events, to replay a time range (README "Operations"); 0: none.
    contact_event_archive_days: int = Field(7, ge=0, le=3650, alias="contactEventArchiveDays")

    @field_validator("connect_instance_arns", mode="before")
    @classmethod
    def _instances(cls, value: Any) -> tuple[str, ...]:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(f"expected an Amazon Connect instance ARN or a list of them, got {value!r}")
        for arn in values:
            if not isinstance(arn, str) or not CONNECT_INSTANCE_ARN.match(arn):
                raise ValueError(
                    f"expected arn:aws:connect:<region>:<12-digit account>:instance/<instance id (uuid)>, got {arn!r}"
                )
        regions = sorted({CONNECT_INSTANCE_ARN.match(arn).group("region") for arn in values})  # type: ignore[union-attr]
        if len(regions) > 1:
            raise ValueError(
                "all instances must be in one Region (Connect publishes contact events in the instance's Region), "
                f"got {regions}"
            )
        return tuple(values)

    @field_validator("agent_event_stream_arn")
    @classmethod
    def _stream(cls, value: str | None) -> str | None:
        if value is not None and not KINESIS_STREAM_ARN.match(value):
            raise ValueError(f"expected arn:aws:kinesis:<region>:<12-digit account>:stream/<name>, got {value!r}")
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        if value is not None and not KMS_KEY_ARN.match(value):
            raise ValueError(f"expected arn:aws:kms:<region>:<12-digit account>:key/<key id (uuid)>, got {value!r}")
        return value

    @field_validator("event_bus_name")
    @classmethod
    def _event_bus(cls, value: str | None) -> str | None:
        if value is not None and not EVENT_BUS_NAME.match(value):
            raise ValueError(f"expected an event bus name such as default or contact-centre-events, got {value!r}")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"expected one of DEBUG, INFO, WARNING, ERROR, got {value!r}")
        return level

    @property
    def region(self) -> str:
        """The Region of the instance(s): the stack must be deployed there to receive their contact events."""
        match = CONNECT_INSTANCE_ARN.match(self.connect_instance_arns[0])
        assert match is not None  # validated above
        return match.group("region")

    @property
    def instance_ids(self) -> tuple[str, ...]:
        return tuple(arn.rsplit("/", 1)[1] for arn in self.connect_instance_arns)


def _coerce(value: Any) -> Any:
    """`-c key=value` arrives as a string; accept JSON there (numbers, lists, objects, booleans)."""
    if isinstance(value, str) and (value[:1] in ("[", "{") or value in ("true", "false") or value.isdigit()):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


CONTEXT_KEYS = (
    "connectInstanceArn",
    "agentEventStreamArn",
    "stateTtlDays",
    "kmsKeyArn",
    "logLevel",
    "tracing",
    "agentStream",
    "alarms",
    "maxAgentEventBytes",
    "eventBusName",
    "enrichment",
    "contactEventArchiveDays",
)


def load_config(context: dict[str, Any]) -> DeploymentConfig:
    """Validate the CDK context; raise ConfigError with a single line naming the offending key."""
    raw = {key: _coerce(context[key]) for key in CONTEXT_KEYS if context.get(key) is not None}
    if "connectInstanceArn" not in raw:
        raise ConfigError(
            'cdk.json context "connectInstanceArn" is required: the ARN of your Amazon Connect instance '
            f"(or a list of them), for example {EXAMPLE_INSTANCE_ARN}"
        )
    try:
        return DeploymentConfig.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])  # pydantic reports the location by alias
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f'cdk.json context "{key}": {message}') from None
