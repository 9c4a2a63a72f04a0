"""The wallboard's read model as deployed: both state tables stream their changes, one board function reads both streams
with bounded, bisecting retries into a dead end that alarms, reads only the tables and indexes the views need, and is
given the settings synth validated."""

from __future__ import annotations

from typing import Any

import pytest

from connect_state.config import BoardConfig, Env
from connect_state.models.board_settings import WallboardSettings
from tests.infrastructure.conftest import logical_id_of, properties_at, resources, synth
from tests.infrastructure.test_monitoring_infra import alarms

pytestmark = pytest.mark.xdist_group("cdk")
BOARD_HANDLER = "connect_state.handlers.board_changes.lambda_handler"
QUEUE_ID = "5a2c3e14-0d4b-4a77-9f6e-0c1d2e3f4a5b"
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"


def board_function(template: Any) -> tuple[str, dict[str, Any]]:
    ((logical_id, function),) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in resources(template, "AWS::Lambda::Function").items()
        if resource["Properties"].get("Handler") == BOARD_HANDLER
    ]
    return logical_id, function


def board_mappings(template: Any, function_id: str) -> dict[str, dict[str, Any]]:
    """The board function's event source mappings, by the logical id of the table whose stream each reads."""
    return {
        mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: mapping["Properties"]
        for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == {"Ref": function_id}
    }


def statements_of(template: Any, function_id: str) -> list[dict[str, Any]]:
    role = resources(template, "AWS::Lambda::Function")[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_both_state_tables_stream_every_change_with_the_item_before_and_after() -> None:
    _, template = synth()
    for path in ("State/AgentState", "State/ContactState"):
        table = properties_at(template, "AWS::DynamoDB::GlobalTable", path)
        assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}, path


def test_the_interval_index_holds_every_queued_contact_by_queue_and_time_with_what_the_metrics_read() -> None:
    _, template = synth()
    table = properties_at(template, "AWS::DynamoDB::GlobalTable", "State/ContactState")
    (index,) = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "byQueueEnqueued"]
    assert index["KeySchema"] == [
        {"AttributeName": "queueArn", "KeyType": "HASH"},
        {"AttributeName": "enqueuedAt", "KeyType": "RANGE"},
    ]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert set(index["Projection"]["NonKeyAttributes"]) == {
        "channel",
        "initiationMethod",
        "status",
        "abandoned",
        "enqueueTimestamp",
        "connectedToAgentTimestamp",
        "disconnectTimestamp",
        "afterContactWorkDuration",
        "agentInitiatedHoldDuration",
    }
    assert {"AttributeName": "enqueuedAt", "AttributeType": "S"} in table["AttributeDefinitions"]


def test_the_board_table_is_keyed_expires_rows_and_is_protected_like_the_state() -> None:
    _, template = synth(stateTableDeletionProtection=False)
    board_id = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "Wallboard/BoardTable")
    table = resources(template, "AWS::DynamoDB::GlobalTable")[board_id]
    properties = table["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    (replica,) = properties["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is False  # stateTableDeletionProtection=false
    assert table["DeletionPolicy"] == "Retain"
    _, protected = synth()
    assert properties_at(protected, "AWS::DynamoDB::GlobalTable", "Wallboard/BoardTable")["Replicas"][0][
        "DeletionProtectionEnabled"
    ]


def test_one_function_reads_both_streams_coalescing_a_second_with_bounded_bisecting_retries() -> None:
    _, template = synth()
    function_id, _ = board_function(template)
    mappings = board_mappings(template, function_id)
    agent_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/AgentState")
    contact_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/ContactState")
    assert set(mappings) == {agent_table, contact_table}
    failed_batches = logical_id_of(template, "AWS::SQS::Queue", "Wallboard/FailedBatches")
    for table, mapping in mappings.items():
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table, "StreamArn"]}
        assert mapping["MaximumBatchingWindowInSeconds"] == 1
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert 0 <= mapping["MaximumRetryAttempts"] <= 10
        assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 24 * 3600
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [failed_batches, "Arn"]}


def test_the_failed_batch_queue_is_encrypted_tls_only_and_alarms_on_its_first_message() -> None:
    _, template = synth()
    queue = properties_at(template, "AWS::SQS::Queue", "Wallboard/FailedBatches")
    assert queue["SqsManagedSseEnabled"] is True
    queue_id = logical_id_of(template, "AWS::SQS::Queue", "Wallboard/FailedBatches")
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)
    alarm = alarms(template)["WallboardFailedBatchesNotEmpty"]
    assert (alarm["MetricName"], alarm["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 0)
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]


def test_the_function_reads_only_the_current_items_the_two_queue_indexes_and_its_own_table() -> None:
    _, template = synth()
    function_id, _ = board_function(template)
    agent_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/AgentState")
    contact_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/ContactState")
    board_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "Wallboard/BoardTable")
    granted: dict[str, set[str]] = {}
    for statement in statements_of(template, function_id):
        for action in as_list(statement["Action"]):
            if action.startswith("dynamodb:"):
                for resource in as_list(statement["Resource"]):
                    granted.setdefault(action, set()).add(_describe(resource))
    index = f"{contact_table}.Arn/index/"
    streams = {f"{agent_table}.StreamArn", f"{contact_table}.StreamArn"}
    assert granted == {
        "dynamodb:BatchGetItem": {f"{agent_table}.Arn", f"{contact_table}.Arn", f"{board_table}.Arn"},
        "dynamodb:GetItem": {f"{board_table}.Arn"},
        "dynamodb:Query": {f"{index}byQueue", f"{index}byQueueEnqueued", f"{board_table}.Arn"},
        "dynamodb:PutItem": {f"{board_table}.Arn"},
        "dynamodb:UpdateItem": {f"{board_table}.Arn"},
        "dynamodb:DeleteItem": {f"{board_table}.Arn"},
        "dynamodb:DescribeStream": streams,
        "dynamodb:GetRecords": streams,
        "dynamodb:GetShardIterator": streams,
        "dynamodb:ListStreams": streams,
    }


def _describe(resource: Any) -> str:
    """A policy resource as `<logical id>.<attribute>[suffix]`, whatever CloudFormation form it takes."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return ".".join(resource["Fn::GetAtt"])
    if isinstance(resource, dict) and "Fn::Join" in resource:
        return "".join(_describe(part) for part in resource["Fn::Join"][1])
    return str(resource)


def test_with_kms_key_arn_the_function_may_use_that_key_for_the_tables_and_streams() -> None:
    _, template = synth(kmsKeyArn=KEY)
    function_id, _ = board_function(template)
    kms = {
        action
        for statement in statements_of(template, function_id)
        if KEY in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }
    assert {"kms:Decrypt", "kms:Encrypt"} <= kms
    board = properties_at(template, "AWS::DynamoDB::GlobalTable", "Wallboard/BoardTable")
    assert board["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert board["Replicas"][0]["SSESpecification"] == {"KMSMasterKeyId": KEY}


def test_the_function_is_given_its_configuration_and_the_settings_synth_validated() -> None:
    # Given a deployment with a time zone, a trailing window, a queue's own thresholds and its name
    wallboard = {
        "timeZone": "Europe/London",
        "trailingMinutes": 60,
        "thresholds": {"default": {"waitWarnSeconds": 30}, QUEUE_ID: {"waitAlertSeconds": 90}},
        "queueNames": {QUEUE_ID: "Sales"},
    }
    # (without the hosted board: the demo's deployment, whose board server stands in for AppSync Events)
    _, template = synth(wallboard={**wallboard, "hosted": False})
    _, function = board_function(template)
    variables = function["Environment"]["Variables"]
    # Then it gets exactly the variables its configuration model requires
    deployed = {name for name in variables if not name.startswith(("POWERTOOLS_", "AWS_"))}
    assert deployed == {field.alias for field in BoardConfig.model_fields.values()}
    # And the settings read back are the ones configured (the deployment's own keys, such as hosted, left out)
    settings = WallboardSettings.from_environment(variables[Env.WALLBOARD_SETTINGS])
    assert settings == WallboardSettings.model_validate(wallboard)
    queue = settings.thresholds_for(f"arn:aws:connect:eu-west-2:111122223333:instance/x/queue/{QUEUE_ID}")
    assert (queue.wait_warn_seconds, queue.wait_alert_seconds, settings.name_for(QUEUE_ID)) == (30, 90, "Sales")
    # And without the hosted board nothing is published (test_wallboard_aws_infra.py: what the hosted board sets)
    assert (variables[Env.CHANNEL_PUBLISH_URL], variables[Env.CHANNEL_PUBLISH_AUTH]) == ("disabled", "none")
    agent_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/AgentState")
    board_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "Wallboard/BoardTable")
    assert (variables[Env.AGENT_TABLE_NAME], variables[Env.BOARD_TABLE_NAME]) == (
        {"Ref": agent_table},
        {"Ref": board_table},
    )


def test_the_board_function_alarms_reach_the_topic_like_the_other_consumers() -> None:
    _, template = synth(alarms={"iteratorAgeSeconds": 90})
    function_id, _ = board_function(template)
    topic = logical_id_of(template, "AWS::SNS::Topic", "Monitoring/AlarmTopic")
    by_name = alarms(template)
    for name, metric in (
        ("WallboardErrors", "Errors"),
        ("WallboardThrottles", "Throttles"),
        ("WallboardStreamsIteratorAge", "IteratorAge"),
    ):
        alarm = by_name[name]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric), name
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}], name
        assert alarm["AlarmActions"] == [{"Ref": topic}], name
        assert alarm["OKActions"] == [{"Ref": topic}], name
    assert by_name["WallboardStreamsIteratorAge"]["Threshold"] == 90_000


def test_outputs_name_the_board_table_and_function() -> None:
    _, template = synth()
    function_id, _ = board_function(template)
    outputs = {key: output["Value"] for key, output in template.find_outputs("*").items()}
    board_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "Wallboard/BoardTable")
    assert (outputs["BoardTableName"], outputs["BoardFunctionName"]) == ({"Ref": board_table}, {"Ref": function_id})
