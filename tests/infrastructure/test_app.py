"""The CDK entry point, the Lambda layer and the sample invocation events that `sam local invoke` uses."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from importlib.metadata import PathDistribution
from pathlib import Path

import pytest

import stacks.config
from connect_state.models.agent_event import AgentEvent
from connect_state.models.decoder import decode_agent_record
from demo import emulator
from stacks.config import EXAMPLE_INSTANCE_ARN
from stacks.constructs.lambda_runtime import LAYER_SOURCE
from tests.infrastructure import conftest
from tests.infrastructure.conftest import project_functions, resources, synth

pytestmark = pytest.mark.xdist_group("cdk")
ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
# A fork configured as the Deploy section says: its own instance (another Region and account), its own stream.
CONFIGURED = {
    "connectInstanceArn": "arn:aws:connect:us-east-1:444455556666:instance/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "agentEventStreamArn": "arn:aws:kinesis:us-east-1:444455556666:stream/connect-agent-events",
    "stateTtlDays": 30,
}


def run_app(context: dict[str, object]) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/tmp/connect-state-test-out"}
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow  # runs app.py in a process
def test_bad_instance_arn_fails_synth_with_one_line() -> None:
    result = run_app({"connectInstanceArn": "arn:aws:connect:eu-west-2:111122223333:instance/not-a-uuid"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'error: cdk.json context "connectInstanceArn": expected arn:aws:connect:<region>:<12-digit account>:'
        "instance/<instance id (uuid)>, got 'arn:aws:connect:eu-west-2:111122223333:instance/not-a-uuid'"
    ]


@pytest.mark.slow  # runs app.py in a process
def test_an_unknown_key_fails_synth_with_one_line_naming_the_closest_setting() -> None:
    # `cdk synth -c stateTTLDays=5` (the CLI hands the app its context as CDK_CONTEXT_JSON, -c values as strings)
    result = run_app({"connectInstanceArn": EXAMPLE_INSTANCE_ARN, "stateTTLDays": "5", "cli-telemetry": False})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'error: cdk.json context "stateTTLDays": no such setting; did you mean "stateTtlDays"?'
    ]


def test_the_tests_and_the_demo_build_from_the_example_whatever_cdk_json_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a cdk.json configured for another instance and stream, with the repo's feature flags
    configured = json.loads((ROOT / "cdk.json").read_text())
    configured["context"].update(CONFIGURED)
    (tmp_path / "cdk.json").write_text(json.dumps(configured))
    monkeypatch.setattr(stacks.config, "CDK_JSON", tmp_path / "cdk.json")
    flag = "@aws-cdk/aws-lambda:recognizeLayerVersion"
    assert configured["context"][flag] is True

    # When the tests build the app (the synth helper, uncached)
    stack, template = conftest._synth.__wrapped__("{}")

    # Then it is the documented example, with cdk.json's feature flags still in effect
    rules = resources(template, "AWS::Events::Rule").values()
    assert {arn for r in rules for arn in r["Properties"]["EventPattern"]["detail"]["instanceArn"]} == {
        EXAMPLE_INSTANCE_ARN
    }
    assert resources(template, "AWS::Kinesis::Stream")  # the example's stack creates its stream
    assert (stack.region, stack.node.try_get_context(flag)) == ("eu-west-2", True)

    # And the demo deploys the example into the emulator, in the example's Region, from cdk.json's flags only
    assert emulator.stack_region({}) == "eu-west-2"
    app_dir = emulator.deploy_app_directory(tmp_path / "demo-app")
    demo_cdk_json = json.loads((app_dir / "cdk.json").read_text())
    assert demo_cdk_json["context"] == {
        **{key: value for key, value in configured["context"].items() if key.startswith("@") or key == "cli-telemetry"},
        "connectInstanceArn": EXAMPLE_INSTANCE_ARN,
    }


def test_the_configured_settings_reach_the_deployed_stack() -> None:
    # Given the settings of the configured fork (what `make deploy` passes to the app from cdk.json)
    stack, template = synth(**CONFIGURED)
    # Then its stream is imported, its instance's events are matched, in its Region
    assert resources(template, "AWS::Kinesis::Stream") == {}
    rules = resources(template, "AWS::Events::Rule").values()
    assert {arn for r in rules for arn in r["Properties"]["EventPattern"]["detail"]["instanceArn"]} == {
        CONFIGURED["connectInstanceArn"]
    }
    assert stack.region == "us-east-1"


def test_every_function_handler_resolves_to_code_in_the_asset() -> None:
    _, template = synth()
    handlers = [f["Properties"]["Handler"] for f in project_functions(template).values()]
    assert handlers
    for handler in handlers:
        module, _, name = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), handler


def test_every_function_has_a_sample_invocation_event() -> None:
    _, template = synth()
    modules = {f["Properties"]["Handler"].split(".")[-2] for f in project_functions(template).values()}
    assert {path.stem for path in EVENTS.glob("*.json")} == modules


def test_agent_events_sample_is_a_kinesis_batch_of_valid_agent_events() -> None:
    event = json.loads((EVENTS / "agent_events.json").read_text())
    assert {r["eventSource"] for r in event["Records"]} == {"aws:kinesis"}
    decoded = [decode_agent_record(r["kinesis"]["data"], 131_072) for r in event["Records"]]
    assert all(isinstance(d, AgentEvent) for d in decoded)


def test_layer_holds_exactly_the_pinned_runtime_dependencies() -> None:
    # Given the pins in lambdas/requirements.txt, Then the layer built by `make setup` has those versions, for arm64
    text = (ROOT / "lambdas" / "requirements.txt").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    matches = [re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", line) for line in lines]
    assert all(matches), f"every line of lambdas/requirements.txt pins one package: {lines}"
    pins = {match[1]: match[2] for match in matches if match}
    built = {
        dist.metadata["Name"].lower().replace("_", "-"): dist.version
        for dist in (PathDistribution(p) for p in (LAYER_SOURCE / "python").glob("*.dist-info"))
    }
    assert built == {name.lower().replace("_", "-"): version for name, version in pins.items()}
    assert list((LAYER_SOURCE / "python" / "pydantic_core").glob("*cpython-313-aarch64-linux-gnu.so"))


def test_contact_events_sample_is_an_sqs_batch_of_valid_contact_events() -> None:
    from connect_state.models.contact_event import ContactEvent
    from connect_state.models.decoder import parse_contact_event

    event = json.loads((EVENTS / "contact_events.json").read_text())
    assert {r["eventSource"] for r in event["Records"]} == {"aws:sqs"}
    assert all(isinstance(parse_contact_event(r["body"]), ContactEvent) for r in event["Records"])


def test_template_carries_the_asset_metadata_sam_local_invoke_needs() -> None:
    # `cdk synth` (the CLI) turns this context on; sam local invoke reads aws:asset:path to find the code and layer.
    _, template = synth(**{"aws:cdk:enable-asset-metadata": True})
    functions = project_functions(template).values()
    # The project's layer (the CDK's BucketDeployment brings its own, the AWS CLI's)
    layers = [
        layer
        for layer in resources(template, "AWS::Lambda::LayerVersion").values()
        if "PowertoolsLayer" in layer["Metadata"]["aws:cdk:path"]
    ]
    assert [f["Metadata"]["aws:asset:property"] for f in functions] == ["Code"] * len(functions)
    assert [layer["Metadata"]["aws:asset:property"] for layer in layers] == ["Content"]
    assert all(f["Metadata"]["aws:asset:path"].startswith("asset.") for f in [*functions, *layers])


def test_enrichment_sample_is_an_sqs_batch_of_completed_and_disconnected_triggers() -> None:
    from connect_state.models.contact_event import ContactEvent
    from connect_state.models.decoder import parse_contact_event

    event = json.loads((EVENTS / "enrichment.json").read_text())
    parsed = [parse_contact_event(r["body"]) for r in event["Records"]]
    assert all(isinstance(p, ContactEvent) for p in parsed)
    assert sorted(p.detail.event_type for p in parsed if isinstance(p, ContactEvent)) == ["COMPLETED", "DISCONNECTED"]


def test_board_changes_sample_is_a_stream_batch_of_an_agent_and_a_contact_change() -> None:
    from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

    from connect_state.domain import agent_state, contact_state

    event = json.loads((EVENTS / "board_changes.json").read_text())
    records = DynamoDBStreamModel.model_validate(event).Records
    assert {r.eventSource for r in records} == {"aws:dynamodb"}
    assert [str(r.eventSourceARN).split("/")[1] for r in records] == [
        "ConnectRealtimeState-StateAgentState",
        "ConnectRealtimeState-StateContactState",
    ]
    # (the parser turns DynamoDB's typed attributes into Python values, as the handler reads them)
    images = [
        image
        for r in records
        if r.dynamodb is not None
        for image in (r.dynamodb.OldImage, r.dynamodb.NewImage)
        if isinstance(image, dict)
    ]
    # Both images of each change are items the state code wrote (the domain reads them back), changed in between
    agent_old, agent_new, contact_old, contact_new = images
    assert agent_state.from_item(agent_old) != agent_state.from_item(agent_new)
    assert contact_state.from_item(contact_old) != contact_state.from_item(contact_new)
