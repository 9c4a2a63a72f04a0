"""cdk.json / `-c` context validation: a mistake fails synth with one line naming the key and the expected form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from stacks.config import EXAMPLE_CONTEXT, EXAMPLE_INSTANCE_ARN, ConfigError, DeploymentConfig, load_config

README = Path(__file__).resolve().parents[2] / "README.md"
OTHER_INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/99999999-2222-3333-4444-555555555555"
STREAM = "arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events"
# What the CDK CLI adds to the context, and what cdk.json's feature flags and cdk.context.json lookups look like.
CDK_OWN_CONTEXT = {
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
    "@aws-cdk-containers/ecs-service-extensions:enableDefaultLogDriver": True,
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:bundling-stacks": ["**"],
    "cli-telemetry": False,
    "availability-zones:account=111122223333:region=eu-west-2": ["eu-west-2a"],
}


def config_with(**overrides: Any) -> dict[str, Any]:
    return {**EXAMPLE_CONTEXT, **overrides}


def error_for(context: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(context)
    message = str(raised.value)
    assert "\n" not in message
    return message


def model_fields(model: type[BaseModel] = DeploymentConfig, prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every setting of the model as its dotted cdk.json key, nested objects included."""
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from model_fields(field.annotation, key + ".")
        else:
            yield key, field


def test_the_documented_example_is_valid() -> None:
    config = load_config(dict(EXAMPLE_CONTEXT))
    assert config.connect_instance_arns == (EXAMPLE_INSTANCE_ARN,)
    assert (config.region, config.state_ttl_days, config.agent_event_stream_arn) == ("eu-west-2", 90, None)


def test_the_cdk_own_context_is_left_to_the_cdk() -> None:
    config = load_config(config_with(**CDK_OWN_CONTEXT))
    assert config.connect_instance_arns == (EXAMPLE_INSTANCE_ARN,)


def test_a_list_of_instances_is_accepted() -> None:
    config = load_config(config_with(connectInstanceArn=[EXAMPLE_INSTANCE_ARN, OTHER_INSTANCE]))
    assert config.instance_ids == ("11111111-2222-3333-4444-555555555555", "99999999-2222-3333-4444-555555555555")


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"stateTTLDays": "5"}, 'cdk.json context "stateTTLDays": no such setting; did you mean "stateTtlDays"?'),
        ({"eventbusname": "x"}, 'cdk.json context "eventbusname": no such setting; did you mean "eventBusName"?'),
        (
            {"agentStream.batchSzie": "5"},
            'cdk.json context "agentStream.batchSzie": no such setting; did you mean "agentStream.batchSize"?',
        ),
        (
            {"agentStream": {"batchSzie": 5}},
            'cdk.json context "agentStream.batchSzie": no such setting; did you mean "agentStream.batchSize"?',
        ),
        (
            {"alarm.email": "a@example.com"},
            'cdk.json context "alarm.email": no such setting; did you mean "alarms.email"?',
        ),
        (
            {"stateTtlDays.max": "5"},
            'cdk.json context "stateTtlDays.max": no such setting; did you mean "stateTtlDays"?',
        ),
        ({"colour": "blue"}, 'cdk.json context "colour": no such setting (the settings are in README "Configuration")'),
    ],
)
def test_an_unknown_key_fails_naming_it_and_the_closest_setting(context: dict[str, Any], message: str) -> None:
    assert error_for(config_with(**CDK_OWN_CONTEXT, **context)) == message


def test_every_setting_of_the_model_is_a_key_the_context_can_set() -> None:
    # Given each setting of the configuration model, set to its own default, on the command line (dotted) form
    for key, field in model_fields():
        if key == "connectInstanceArn" or field.default is None:
            continue
        # Then it is read, not rejected as unknown
        load_config(
            config_with(**{key: str(field.default).lower() if field.default in (True, False) else field.default})
        )


def test_every_key_the_readme_documents_reaches_the_model() -> None:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {key for row in re.findall(r"^\| ([^|]+) \|", section, re.M) for key in re.findall(r"`([^`]+)`", row)}
    assert documented, "no configuration table in the README"
    assert documented <= {key for key, _ in model_fields()}


def test_dotted_command_line_keys_set_one_field_of_an_object() -> None:
    # Given cdk.json's agentStream object and `-c agentStream.batchSize=7 -c alarms.email=... -c enrichment...`
    config = load_config(
        config_with(
            agentStream={"batchSize": 100, "retryAttempts": 3},
            **{"agentStream.batchSize": "7", "alarms.email": "oncall@example.com", "enrichment.ratePerSecond": "2.5"},
        )
    )
    # Then the dotted key overrides that field, and the object's other fields stay
    assert (config.agent_stream.batch_size, config.agent_stream.retry_attempts) == (7, 3)
    assert (config.alarms.email, config.enrichment.rate_per_second) == ("oncall@example.com", 2.5)


def test_command_line_values_arrive_as_strings_and_are_understood() -> None:
    # `cdk synth -c stateTtlDays=30 -c connectInstanceArn='["arn:...","arn:..."]' -c tracing=false ...`
    config = load_config(
        config_with(
            stateTtlDays="30",
            tracing="false",
            connectInstanceArn=f'["{EXAMPLE_INSTANCE_ARN}"]',
            contactEventArchiveDays="0",
            enrichment='{"enabled": false}',
            agentEventStreamArn="null",
        )
    )
    assert (config.state_ttl_days, config.tracing, config.connect_instance_arns) == (30, False, (EXAMPLE_INSTANCE_ARN,))
    assert (config.contact_event_archive_days, config.enrichment.enabled, config.agent_event_stream_arn) == (
        0,
        False,
        None,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"connectInstanceArn": "arn:aws:connect:eu-west-2:1234:instance/abc"},
            'cdk.json context "connectInstanceArn": expected arn:aws:connect:<region>:<12-digit account>:'
            "instance/<instance id (uuid)>, got 'arn:aws:connect:eu-west-2:1234:instance/abc'",
        ),
        (
            {"agentEventStreamArn": "my-stream"},
            'cdk.json context "agentEventStreamArn": expected arn:aws:kinesis:<region>:<12-digit account>:'
            "stream/<name>, got 'my-stream'",
        ),
        ({"stateTtlDays": 0}, 'cdk.json context "stateTtlDays": expected a whole number of days from 1 to 3650, got 0'),
        (
            {"stateTtlDays": "2.5"},
            "cdk.json context \"stateTtlDays\": expected a whole number of days from 1 to 3650, got '2.5'",
        ),
        (
            {"kmsKeyArn": "alias/connect"},
            'cdk.json context "kmsKeyArn": expected arn:aws:kms:<region>:<12-digit account>:key/<key id (uuid)>, '
            "got 'alias/connect'",
        ),
        (
            {"alarms": {"email": "not-an-address"}},
            'cdk.json context "alarms.email": expected an email address such as oncall@example.com, '
            "got 'not-an-address'",
        ),
        (
            {"alarms.email": "not-an-email"},
            'cdk.json context "alarms.email": expected an email address such as oncall@example.com, '
            "got 'not-an-email'",
        ),
        (
            {"agentStream": {"batchSize": 0}},
            'cdk.json context "agentStream.batchSize": expected a whole number of records from 1 to 10000, got 0',
        ),
        (
            {"agentStream.batchSize": "100000"},
            'cdk.json context "agentStream.batchSize": expected a whole number of records from 1 to 10000, '
            "got '100000'",
        ),
        (
            {"enrichment": {"disconnectedDelayMinutes": 30}},
            'cdk.json context "enrichment.disconnectedDelayMinutes": expected a whole number of minutes from 0 to 15, '
            "got 30",
        ),
        (
            {"enrichment.ratePerSecond": "0"},
            'cdk.json context "enrichment.ratePerSecond": expected a number of DescribeContact calls per second '
            "above 0 and up to 100, got '0'",
        ),
        (
            {"alarms.iteratorAgeSeconds": "-1"},
            "cdk.json context \"alarms.iteratorAgeSeconds\": expected a whole number of seconds, at least 1, got '-1'",
        ),
        ({"tracing": "maybe"}, "cdk.json context \"tracing\": expected true or false, got 'maybe'"),
        (
            {"eventBusName": "bad name!"},
            'cdk.json context "eventBusName": expected an event bus name such as default or contact-centre-events, '
            "got 'bad name!'",
        ),
        (
            {"agentStream": "{batchSize: 7}"},
            'cdk.json context "agentStream": expected an object such as {"batchSize": 100} '
            "(or one setting: -c agentStream.batchSize=100), got '{batchSize: 7}'",
        ),
        (
            {"connectInstanceArn": [EXAMPLE_INSTANCE_ARN, OTHER_INSTANCE.replace("eu-west-2", "us-east-1")]},
            'cdk.json context "connectInstanceArn": all instances must be in one Region (Connect publishes contact '
            "events in the instance's Region), got ['eu-west-2', 'us-east-1']",
        ),
        (
            {"agentEventStreamArn": STREAM.replace("eu-west-2", "us-east-1")},
            'cdk.json context "agentEventStreamArn": the stream is in us-east-1, the instance in eu-west-2; '
            "Amazon Connect streams agent events only to a Kinesis stream in its own Region and account",
        ),
        (
            {"agentEventStreamArn": STREAM.replace("111122223333", "444455556666")},
            'cdk.json context "agentEventStreamArn": the stream is in account 444455556666, the instance in '
            "111122223333; Amazon Connect streams agent events only to a Kinesis stream in its own Region and account",
        ),
    ],
)
def test_bad_values_fail_with_one_line_naming_the_key(overrides: dict[str, Any], message: str) -> None:
    assert error_for(config_with(**overrides)) == message


def test_a_stream_in_the_instance_region_and_account_is_accepted() -> None:
    assert load_config(config_with(agentEventStreamArn=STREAM)).agent_event_stream_arn == STREAM


def test_every_number_out_of_range_is_explained_in_the_projects_words() -> None:
    # Given each numeric setting of the model, one step below its lowest and above its highest allowed value
    checked = 0
    for key, field in model_fields():
        for bound in field.metadata:
            low = getattr(bound, "ge", None) if getattr(bound, "ge", None) is not None else getattr(bound, "gt", None)
            high = getattr(bound, "le", None) if getattr(bound, "le", None) is not None else getattr(bound, "lt", None)
            for value in [
                v
                for v in (low - 1 if low is not None else None, high + 1 if high is not None else None)
                if v is not None
            ]:
                # Then the message names the key and the allowed range, without pydantic's wording
                message = error_for(config_with(**{key: str(value)}))
                assert message.startswith(f'cdk.json context "{key}": expected ')
                assert "Input should" not in message
                assert str(low if low is not None else high) in message
                checked += 1
    assert checked >= 20


def test_missing_instance_says_what_to_put_there() -> None:
    message = error_for(dict(CDK_OWN_CONTEXT))
    assert re.match(r'cdk.json context "connectInstanceArn" is required.*for example arn:aws:connect:', message)
