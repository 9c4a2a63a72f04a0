"""Deployment configuration: the `cdk.json` context (or `-c key=value`, `-c object.key=value`), typed and validated
at synth.

The settings are the fields of the models below: a context key that is none of them (and not one of the CDK's own,
such as its feature flags) is a typo. Every error names the context key and the form it expects, in one line, so a
mistake fails `cdk synth` instead of deploying a stack that ignores it or never receives an event.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Self, Union, get_args, get_origin, get_type_hints

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from connect_state.models.board_settings import WallboardSettings
from stacks.opening_hours import EXAMPLE as EXAMPLE_OPENING_HOURS
from stacks.opening_hours import OpeningHours

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
SECRET_ARN = re.compile(rf"^arn:{_PARTITION}:secretsmanager:{_REGION}:\d{{12}}:secret:[A-Za-z0-9/_+=.@-]{{1,512}}$")
HTTPS_URL = re.compile(r"^https://[^\s/?#]+(?:/[^\s]*)?$")
# Cognito's provider names: 3 to 32 characters; "COGNITO" is its own (the user pool's users).
PROVIDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$")
# CloudFront takes its certificate and web ACL from us-east-1 only, whatever the stack's Region.
CLOUDFRONT_CERTIFICATE_ARN = re.compile(rf"^arn:{_PARTITION}:acm:us-east-1:\d{{12}}:certificate/[0-9a-f-]{{36}}$")
CLOUDFRONT_WEB_ACL_ARN = re.compile(
    rf"^arn:{_PARTITION}:wafv2:us-east-1:\d{{12}}:global/webacl/[\w-]{{1,128}}/[0-9a-f-]{{36}}$"
)
HOST_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

EXAMPLE_INSTANCE_ARN = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"
# The documented example: what the tests and the demo build the app from, whatever the user's cdk.json says.
EXAMPLE_CONTEXT: Mapping[str, Any] = types.MappingProxyType({"connectInstanceArn": EXAMPLE_INSTANCE_ARN})
CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"
# Lambda allows 4 KB for all of a function's variables: the board function's settings keep the rest for its others.
MAX_WALLBOARD_SETTINGS_BYTES = 3072
# The one stack the app deploys: the CLI, the tools (preflight, teardown, ops/) and the demo name it so.
STACK_NAME = "ConnectRealtimeState"


class ConfigError(ValueError):
    """A context value is missing or malformed; the message is one line meant for the person running synth."""


def _matching(pattern: re.Pattern[str], value: str | None, expected: str) -> str | None:
    """An optional setting: unset, or text of the form `pattern`; else the error says what was expected."""
    if value is not None and not pattern.match(value):
        raise ValueError(f"expected {expected}, got {value!r}")
    return value


class AgentStreamSettings(BaseModel):
    """How the agent event consumer reads Kinesis (see README "Configuration")."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    batch_size: int = Field(100, ge=1, le=10_000, alias="batchSize", json_schema_extra={"unit": "records"})
    max_batching_window_seconds: int = Field(1, ge=0, le=300, alias="maxBatchingWindowSeconds")
    parallelization_factor: int = Field(
        1, ge=1, le=10, alias="parallelizationFactor", json_schema_extra={"unit": "concurrent batches per shard"}
    )
    retry_attempts: int = Field(5, ge=0, le=10_000, alias="retryAttempts", json_schema_extra={"unit": "retries"})
    max_record_age_seconds: int = Field(3600, ge=60, le=604_800, alias="maxRecordAgeSeconds")
    # How long the failed-batch bucket keeps a batch Lambda gave up on (its records, to replay).
    failed_batch_retention_days: int = Field(30, ge=1, le=3650, alias="failedBatchRetentionDays")


class ContactEventSettings(BaseModel):
    """How the contact events function reads its buffer queue (see README "Configuration")."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # Lambda's MaximumConcurrency of an SQS event source (2 to 1000): a backlog drains at this pace.
    max_concurrency: int = Field(
        10, ge=2, le=1000, alias="maxConcurrency", json_schema_extra={"unit": "concurrent invocations"}
    )


class EnrichmentSettings(BaseModel):
    """DescribeContact enrichment (README "Enrichment"): how fast, how long to wait for COMPLETED, how often to try."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = True
    # Calls per second for the whole deployment; the account's quota (10/s, burst 15) is shared with other apps.
    rate_per_second: float = Field(
        5, gt=0, le=100, alias="ratePerSecond", json_schema_extra={"unit": "DescribeContact calls per second"}
    )
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
    function_errors: int = Field(0, ge=0, alias="functionErrors", json_schema_extra={"unit": "errors a minute"})
    function_throttles: int = Field(
        0, ge=0, alias="functionThrottles", json_schema_extra={"unit": "throttles a minute"}
    )
    # Silence alarms (README "Operations"): only inside these hours is no event at all a fault; "none": no such alarm.
    opening_hours_utc: OpeningHours = Field(EXAMPLE_OPENING_HOURS, alias="openingHoursUtc", validate_default=True)
    # Judged in whole five-minute periods (rounded up); at least two, so one late period alone never alarms.
    agent_events_silent_minutes: int = Field(10, ge=10, le=1440, alias="agentEventsSilentMinutes")
    contact_events_silent_minutes: int = Field(30, ge=10, le=1440, alias="contactEventsSilentMinutes")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _matching(EMAIL, value, "an email address such as oncall@example.com")

    @field_validator("topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        return _matching(SNS_TOPIC_ARN, value, "an SNS topic ARN such as arn:aws:sns:eu-west-2:111122223333:oncall")


class WallboardIdentityProvider(BaseModel):
    """The identity provider supervisors already sign in with (the one the Connect instance uses), federated into the
    wallboard's user pool: SAML by its metadata URL, or OpenID Connect by its issuer and a client registered there
    (its secret in Secrets Manager, read by CloudFormation at deploy, never in the template)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    type: Literal["SAML", "OIDC"]
    # The button on the sign-in page, and the provider's name in the user pool.
    name: str
    metadata_url: str | None = Field(None, alias="metadataUrl")
    issuer: str | None = None
    client_id: str | None = Field(None, alias="clientId")
    client_secret_arn: str | None = Field(None, alias="clientSecretArn")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not PROVIDER_NAME.match(value) or value.upper() == "COGNITO":
            raise ValueError(
                f"expected a name of 3 to 32 letters, digits, '.', '_' or '-' (not COGNITO), got {value!r}"
            )
        return value

    @field_validator("metadata_url", "issuer")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return _matching(HTTPS_URL, value, "an https:// URL")

    @field_validator("client_secret_arn")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return _matching(SECRET_ARN, value, "arn:aws:secretsmanager:<region>:<12-digit account>:secret:<name>")

    @model_validator(mode="after")
    def _what_the_type_needs(self) -> Self:
        needed = {"SAML": ("metadataUrl",), "OIDC": ("issuer", "clientId", "clientSecretArn")}[self.type]
        given = {key for key, value in self.model_dump(by_alias=True).items() if value is not None}
        missing = [key for key in needed if key not in given]
        other = sorted(given - {"type", "name", *needed})
        if missing or other:
            problem = f"needs {', '.join(missing)}" if missing else f"takes no {', '.join(other)}"
            raise ValueError(f"a {self.type} provider {problem} (it takes name, {', '.join(needed)})")
        return self


class WallboardDeployment(WallboardSettings):
    """`wallboard`: the board function's settings, and how the board is deployed. The deployment's own fields are
    excluded from every dump, so `to_environment()` hands the function exactly its WallboardSettings."""

    # The board in AWS: push (AppSync Events), sign-in (Cognito), the snapshot API and hosting (CloudFront). false:
    # none of them, and nothing is published (the demo: its emulator has none of those services, a local server
    # stands in).
    hosted: bool = Field(True, exclude=True)
    identity_provider: WallboardIdentityProvider | None = Field(None, alias="identityProvider", exclude=True)
    # The board's own address instead of CloudFront's (*.cloudfront.net): the name, and its ACM certificate.
    domain_name: str | None = Field(None, alias="domainName", exclude=True)
    certificate_arn: str | None = Field(None, alias="certificateArn", exclude=True)
    # A WAF web ACL (scope CLOUDFRONT) in front of the distribution.
    web_acl_arn: str | None = Field(None, alias="webAclArn", exclude=True)

    @field_validator("domain_name")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return _matching(HOST_NAME, value, "a lower-case host name such as wallboard.example.com")

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str | None) -> str | None:
        return _matching(
            CLOUDFRONT_CERTIFICATE_ARN,
            value,
            "an ACM certificate in us-east-1 (CloudFront's Region), arn:aws:acm:us-east-1:<account>:certificate/<id>",
        )

    @field_validator("web_acl_arn")
    @classmethod
    def _web_acl(cls, value: str | None) -> str | None:
        return _matching(
            CLOUDFRONT_WEB_ACL_ARN,
            value,
            "a CLOUDFRONT-scope web ACL, arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>",
        )

    @model_validator(mode="after")
    def _hosting_settings_need_the_hosted_board(self) -> Self:
        if (self.domain_name is None) != (self.certificate_arn is None):
            raise ValueError("domainName and certificateArn go together: the name, and the certificate that covers it")
        given = [
            key
            for key, value in (
                ("identityProvider", self.identity_provider),
                ("domainName", self.domain_name),
                ("webAclArn", self.web_acl_arn),
            )
            if value is not None
        ]
        if given and not self.hosted:
            raise ValueError(f"{', '.join(given)} configure the hosted board: set hosted true, or leave them out")
        return self


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
    contact_events: ContactEventSettings = Field(default_factory=ContactEventSettings, alias="contactEvents")
    # DynamoDB deletion protection of the agent and contact state tables.
    state_table_deletion_protection: bool = Field(True, alias="stateTableDeletionProtection")
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    enrichment: EnrichmentSettings = Field(default_factory=EnrichmentSettings)
    max_agent_event_bytes: int = Field(131_072, ge=1024, le=1_048_576, alias="maxAgentEventBytes")
    # Where `Contact Abandoned` is published: None creates a project bus; "default" or a name uses that bus.
    event_bus_name: str | None = Field(None, alias="eventBusName")
    # Days an EventBridge archive keeps the contact events, to replay a time range (README "Operations"); 0: none.
    contact_event_archive_days: int = Field(7, ge=0, le=3650, alias="contactEventArchiveDays")
    # The live wallboard: its interval, the thresholds that colour its tiles, queue names (README "Configuration").
    wallboard: WallboardDeployment = Field(default_factory=WallboardDeployment)

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
    def _stream(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        stream = KINESIS_STREAM_ARN.match(value)
        if stream is None:
            raise ValueError(f"expected arn:aws:kinesis:<region>:<12-digit account>:stream/<name>, got {value!r}")
        # Connect writes agent events only to a stream of its own Region and account: any other never gets one.
        for arn in info.data.get("connect_instance_arns", ()):
            instance = CONNECT_INSTANCE_ARN.match(arn)
            assert instance is not None  # validated before this field
            for what, prefix in (("region", ""), ("account", "account ")):
                if stream.group(what) != instance.group(what):
                    raise ValueError(
                        f"the stream is in {prefix}{stream.group(what)}, the instance in {instance.group(what)}; "
                        "Amazon Connect streams agent events only to a Kinesis stream in its own Region and account"
                    )
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return _matching(KMS_KEY_ARN, value, "arn:aws:kms:<region>:<12-digit account>:key/<key id (uuid)>")

    @field_validator("event_bus_name")
    @classmethod
    def _event_bus(cls, value: str | None) -> str | None:
        return _matching(EVENT_BUS_NAME, value, "an event bus name such as default or contact-centre-events")

    @field_validator("wallboard")
    @classmethod
    def _wallboard_fits_the_environment(cls, value: WallboardDeployment) -> WallboardDeployment:
        size = len(value.to_environment().encode())
        if size > MAX_WALLBOARD_SETTINGS_BYTES:
            raise ValueError(
                f"the settings take {size} bytes of the board function's environment, over the "
                f"{MAX_WALLBOARD_SETTINGS_BYTES} that fit beside its other variables in Lambda's 4 KB: key the entries "
                "by queue id rather than ARN, or shorten queueNames"
            )
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


# --- the context: which keys are ours, how `-c` strings and dotted keys reach the model -----------------------------

# Context keys the CDK itself owns (its CLI sets some; feature flags and lookups live in cdk.json/cdk.context.json).
_CDK_KEYS = frozenset({"cli-telemetry", "acknowledged-issue-numbers"})
_UNIT_SUFFIX = re.compile(r"(Days|Hours|Minutes|Seconds|Bytes|Attempts)$")
_RANGE_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def is_cdk_key(key: str) -> bool:
    """Feature flags (`@aws-cdk/...`), `aws:cdk:...` settings, lookup results (`<provider>:account=...`) and the
    CLI's own keys: not settings of this project, never rejected."""
    return key.startswith(("@", "cdk-")) or ":" in key or key in _CDK_KEYS


def cdk_own_context() -> dict[str, Any]:
    """cdk.json's context keys that belong to the CDK (the feature flags): they apply to every build of the app."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text()).get("context", {})
    return {key: value for key, value in context.items() if is_cdk_key(key)}


def example_context(**overrides: Any) -> dict[str, Any]:
    """The context the tests and the demo build the app from: cdk.json's feature flags and the documented example,
    never the settings in the user's cdk.json (a fork configured for its instance must still pass `make test`)."""
    return {**cdk_own_context(), **EXAMPLE_CONTEXT, **overrides}


def load_config(context: Mapping[str, Any]) -> DeploymentConfig:
    """Validate the app's whole context (the CDK's own keys are skipped); raise ConfigError with a single line naming
    the offending key. `-c object.key=value` sets one field of an object setting, over cdk.json's object."""
    raw = _settings({key: value for key, value in context.items() if not is_cdk_key(key)}, DeploymentConfig, prefix="")
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
        raise ConfigError(f'cdk.json context "{key}": {_explain(first)}') from None


def setting_keys(model: type[BaseModel] = DeploymentConfig, prefix: str = "") -> Iterator[str]:
    """Every context key the model reads, objects and their dotted fields ("agentStream", "agentStream.batchSize")."""
    for key, field in _fields(model).items():
        yield prefix + key
        nested = _nested_model(field)
        if nested is not None:
            yield from setting_keys(nested, f"{prefix}{key}.")


def _settings(context: Mapping[str, Any], model: type[BaseModel], prefix: str) -> dict[str, Any]:
    """The keys of `model` in `context`, decoded from `-c` strings, dotted keys merged into their object, unset
    (null) values left out so that the defaults apply; an unknown key raises ConfigError. A model with typed extra
    keys (the wallboard's thresholds per queue) takes any other key as an object of its extras' model."""
    fields = _fields(model)
    extra = _extra_model(model)
    values: dict[str, Any] = {}
    dotted: dict[str, dict[str, Any]] = {}
    for key, value in context.items():
        name, dot, rest = str(key).partition(".")
        is_object = _nested_model(fields[name]) is not None if name in fields else extra is not None
        if (name not in fields and extra is None) or (dot and not is_object):
            raise ConfigError(_unknown(prefix + str(key), model, prefix))
        if dot:
            dotted.setdefault(name, {})[rest] = value
        else:
            values[name] = _decode(value)
    extras = {name: extra for name in {*values, *dotted} if name not in fields} if extra is not None else {}
    for name, nested in {**{name: _nested_model(field) for name, field in fields.items()}, **extras}.items():
        value = values.get(name)
        if nested is not None and (name in dotted or isinstance(value, Mapping)):
            if value is None:
                value = {}
            if isinstance(value, Mapping):  # otherwise pydantic says an object is expected
                value = _settings({**value, **dotted.get(name, {})}, nested, f"{prefix}{name}.")
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


def _decode(value: Any) -> Any:
    """`-c key=value` arrives as a string: JSON lists and objects are decoded, "null" unsets the key; numbers and
    booleans are left to pydantic, which parses "7", "2.5", "-1" and "false" for the field's own type."""
    if value == "null":
        return None
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _extra_model(model: type[BaseModel] | None) -> type[BaseModel] | None:
    """The model of a model's typed extra keys (`__pydantic_extra__: dict[str, Model]`), if it takes any."""
    if model is None or model.model_config.get("extra") != "allow":
        return None
    value_type = get_args(get_type_hints(model).get("__pydantic_extra__"))[-1:]
    return value_type[0] if value_type and issubclass(value_type[0], BaseModel) else None


def _nested_model(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    candidates = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _unknown(key: str, model: type[BaseModel] = DeploymentConfig, prefix: str = "") -> str:
    """`key` is no setting: name the closest one (the model's own keys under `prefix` count, for keys under an
    extra key such as a queue id)."""
    lowered = {k.lower(): k for k in (*setting_keys(), *setting_keys(model, prefix))}
    matches = [key.lower()] if key.lower() in lowered else difflib.get_close_matches(key.lower(), lowered, n=1)
    close = [lowered[k] for k in matches]
    if close:
        return f'cdk.json context "{key}": no such setting; did you mean "{close[0]}"?'
    return f'cdk.json context "{key}": no such setting (the settings are in README "Configuration")'


def _explain(error: ErrorDetails) -> str:
    """pydantic's error in the project's words: the form, unit and range the key takes, and what it got."""
    kind, got = error["type"], error["input"]
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    field = _field_at([str(part) for part in error["loc"]])
    if field is not None and _number_type(field) and (kind.startswith(("int_", "float_")) or kind in _RANGE_ERRORS):
        return f"expected {_describe_number(field, str(error['loc'][-1]))}, got {got!r}"
    if kind.startswith("bool_"):
        return f"expected true or false, got {got!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type") and field is not None:
        nested = _nested_model(field)
        if nested is not None:
            key = ".".join(str(part) for part in error["loc"])
            first, default = next((name, setting.default) for name, setting in _fields(nested).items())
            example = json.dumps({first: default})
            return f"expected an object such as {example} (or one setting: -c {key}.{first}={default}), got {got!r}"
    if kind.startswith("string_"):
        return f"expected text, got {got!r}"
    return f"{error['msg']}, got {got!r}"


def _field_at(loc: list[str]) -> FieldInfo | None:
    model: type[BaseModel] | None = DeploymentConfig
    field: FieldInfo | None = None
    for part in loc:
        field = _fields(model).get(part) if model is not None else None
        if field is None:
            if _extra_model(model) is None:
                return None
            model = _extra_model(model)  # a key of the model's typed extras: its fields are the extra model's
            continue
        model = _nested_model(field)
    return field


def _number_type(field: FieldInfo) -> type | None:
    annotation = field.annotation
    candidates = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    return next((candidate for candidate in candidates if candidate in (int, float)), None)


def _describe_number(field: FieldInfo, key: str) -> str:
    """The form a number takes, e.g. "a whole number of days from 1 to 3650". The unit is the field's
    json_schema_extra "unit", or the end of its name (stateTtlDays: days)."""
    extra = field.json_schema_extra
    unit = extra.get("unit") if isinstance(extra, dict) else None
    if not isinstance(unit, str):
        suffix = _UNIT_SUFFIX.search(key)
        unit = suffix.group(1).lower() if suffix else None
    noun = ("a whole number" if _number_type(field) is int else "a number") + (f" of {unit}" if unit else "")
    bounds = {
        name: _figure(getattr(item, name))
        for item in field.metadata
        for name in ("ge", "gt", "le", "lt")
        if getattr(item, name, None) is not None
    }
    ge, gt, le, lt = (bounds.get(name) for name in ("ge", "gt", "le", "lt"))
    if ge is not None and le is not None:
        return f"{noun} from {ge} to {le}"
    low = f"at least {ge}" if ge is not None else f"above {gt}" if gt is not None else None
    high = f"up to {le}" if le is not None else f"below {lt}" if lt is not None else None
    if low and high:
        return f"{noun} {low} and {high}"
    return f"{noun}, {low or high}" if low or high else noun


def _figure(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
