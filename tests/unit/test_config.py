"""cdk.json context validation: a mistake fails synth with one line naming the key and the expected form."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.app_factory import cdk_json_context
from stacks.config import EXAMPLE_INSTANCE_ARN, ConfigError, load_config

OTHER_INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/99999999-2222-3333-4444-555555555555"


def config_with(**overrides: Any) -> dict[str, Any]:
    return {**cdk_json_context(), **overrides}


def test_the_documented_example_in_cdk_json_is_valid() -> None:
    config = load_config(cdk_json_context())
    assert config.connect_instance_arns == (EXAMPLE_INSTANCE_ARN,)
    assert (config.region, config.state_ttl_days, config.agent_event_stream_arn) == ("eu-west-2", 90, None)


def test_a_list_of_instances_is_accepted() -> None:
    config = load_config(config_with(connectInstanceArn=[EXAMPLE_INSTANCE_ARN, OTHER_INSTANCE]))
    assert config.instance_ids == ("11111111-2222-3333-4444-555555555555", "99999999-2222-3333-4444-555555555555")


def test_command_line_values_arrive_as_strings_and_are_understood() -> None:
    # `cdk synth -c stateTtlDays=30 -c connectInstanceArn='["arn:...","arn:..."]' -c tracing=false`
    config = load_config(
        config_with(stateTtlDays="30", tracing="false", connectInstanceArn=f'["{EXAMPLE_INSTANCE_ARN}"]')
    )
    assert (config.state_ttl_days, config.tracing, config.connect_instance_arns) == (30, False, (EXAMPLE_INSTANCE_ARN,))


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
        ({"stateTtlDays": 0}, 'cdk.json context "stateTtlDays": Input should be greater than or equal to 1'),
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
            {"agentStream": {"batchSize": 0}},
            'cdk.json context "agentStream.batchSize": Input should be greater than or equal to 1',
        ),
        (
            {"enrichment": {"disconnectedDelayMinutes": 30}},
            'cdk.json context "enrichment.disconnectedDelayMinutes": Input should be less than or equal to 15',
        ),
        (
            {"enrichment": {"ratePerSecond": 0}},
            'cdk.json context "enrichment.ratePerSecond": Input should be greater than 0',
        ),
        (
            {"connectInstanceArn": [EXAMPLE_INSTANCE_ARN, OTHER_INSTANCE.replace("eu-west-2", "us-east-1")]},
            'cdk.json context "connectInstanceArn": all instances must be in one Region (Connect publishes contact '
            "events in the instance's Region), got ['eu-west-2', 'us-east-1']",
        ),
    ],
)
def test_bad_values_fail_with_one_line_naming_the_key(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(config_with(**overrides))
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


def test_missing_instance_says_what_to_put_there() -> None:
    context = cdk_json_context()
    del context["connectInstanceArn"]
    with pytest.raises(ConfigError, match=r'"connectInstanceArn" is required.*for example arn:aws:connect:'):
        load_config(context)
