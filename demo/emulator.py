"""Deploy this project's real stack into a local moto server: `cdk bootstrap` + `cdk deploy`, no AWS, no Docker.

    with LocalAws() as aws:
        outputs = deploy_stack(aws.endpoint_url, {"logLevel": "DEBUG"})
        functions = function_environments(aws.endpoint_url)

Why each workaround exists (found by deploying with moto 5.2.5 and the pinned aws-cdk CLI 2.1148.1):

1. The server is a subprocess (`python -m demo.emulator --port N`, stopped by its process id). The moto patches of
   2-4 then exist only in that process, and its state is not shared with a `mock_aws()` in the caller's process.
2. moto's CloudFormation has no AWS::DynamoDB::GlobalTable (what TableV2 synthesizes): it skips unsupported types
   with a warning, then fails the deploy on the first Fn::GetAtt of a table ("references undefined resource"). The
   server registers a model that creates an ordinary table: key schema, GSIs, billing mode, stream, TTL, and the
   replica's deletion protection. Replicas (one Region here) are dropped; moto does not report SSE or point-in-time
   recovery.
3. Nor has it AWS::CloudWatch::Alarm: the dashboard body's Fn::GetAtt <alarm>.Arn fails the same way. The server
   registers a model that puts the alarm into moto's CloudWatch (never evaluated).
4. moto's EventBus and LayerVersion models have no physical id, so `Ref` gives the Python object: the contact
   function's EVENT_BUS_NAME became "<moto.events.models.EventBus object at 0x...>" and ListFunctions answered 500
   (not JSON serializable). Patched: Ref gives the bus name and the layer version ARN, as CloudFormation does.
   moto's AWS::Events::Archive expects EventPattern as a JSON string (CloudFormation gives an object) and uses the
   generated resource name, which can exceed the 48 characters archive names allow: both are adapted.
5. `cdk deploy --method=direct`: with a change set (the CLI's default) moto's ExecuteChangeSet keeps the outputs of
   the empty REVIEW_IN_PROGRESS stack, so DescribeStacks and the CLI report no outputs at all.
6. `--no-previous-parameters`: on a second deploy the CLI sends BootstrapVersion with UsePreviousValue, and moto's
   UpdateStack fails with KeyError (HTTP 500, the CLI retries for a minute) because it never stored that parameter.
7. `cdk bootstrap` runs in an empty directory: next to cdk.json the CLI synthesizes the app first (10 s, not 3 s),
   which bootstrapping an explicit aws://account/region does not need. `cdk deploy` runs in a directory of its own
   too, whose cdk.json holds the documented example (see `deploy_app_directory`), not the user's settings.
8. After the deploy the stack's event source mappings are disabled. moto cannot run a function (no Docker), yet
   with the SQS mapping enabled every message sent to the buffer queue is received for the function, the invocation
   fails and the message returns with ApproximateReceiveCount already 1 (5 sends it to the dead-letter queue). The
   handlers are meant to run in-process with `function_environments`. moto ignores `Enabled` on a Kinesis mapping:
   each PutRecord still tries an invocation ("error running docker" in the server log); the record stays readable.

What moto's CloudFormation leaves out (the deploy still succeeds): AWS::SQS::QueuePolicy, AWS::SNS::TopicPolicy and
AWS::S3::BucketPolicy (the bootstrap's, the failed-batch bucket's) are skipped; a bucket's LifecycleConfiguration and
PublicAccessBlockConfiguration, and a function's Layers, Architectures (reported as x86_64), TracingConfig and
LoggingConfig are ignored; the stream is PROVISIONED with one shard, unencrypted. Queue URLs in the outputs name
sqs.<region>.amazonaws.com: a client with endpoint_url set uses them as they are.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError

from stacks import config as deployment_config

REPO = Path(__file__).resolve().parents[1]
CDK = REPO / "node_modules" / ".bin" / "cdk"
STACK_NAME = "ConnectRealtimeState"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Credentials and settings of the caller that must not reach the CLI: AWS_PROFILE would even make the SDK skip the
# environment credentials.
_CALLER_AWS_SETTINGS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
_TAIL_LINES = 40
# A busy machine slows the one emulator process down: a put_records of 500 records has taken over botocore's default
# 60 s. The demo's own calls wait longer and are retried on timeouts, refused connections and 5xx (standard mode);
# repeating them is safe: a record or message sent twice is a duplicate delivery, which the stack absorbs as it does
# AWS's own at-least-once delivery.
READ_TIMEOUT_SECONDS = 180
MAX_ATTEMPTS = 3

log = logging.getLogger(__name__)


class EmulatorError(RuntimeError):
    """The server did not start, or the CLI failed; the message carries the tail of its output."""


class LocalAws:
    """A moto server on localhost for the duration of a `with` block; always stopped (by its process id) on exit."""

    def __init__(self, port: int | None = None, *, start_timeout_seconds: float = 30) -> None:
        self.port = port or _free_port()
        self.endpoint_url = f"http://localhost:{self.port}"
        self._start_timeout = start_timeout_seconds
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path:
        """The server's output (one line per request, and moto's warnings), while the server runs."""
        if self._dir is None:
            raise EmulatorError("the server is not running")
        return Path(self._dir.name) / "moto.log"

    def __enter__(self) -> LocalAws:
        self._dir = tempfile.TemporaryDirectory(prefix="moto-")
        with self.log_path.open("wb") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "demo.emulator", "--port", str(self.port)],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_listening()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        log.info("moto server pid %d at %s", self._process.pid, self.endpoint_url)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()  # SIGTERM to self._process.pid: moto's server exits on it
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmulatorError(f"moto server exited with {self._process.returncode}:\n{self._log_tail()}")
            try:
                socket.create_connection(("localhost", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise EmulatorError(f"moto server not listening on port {self.port} after {self._start_timeout} s")

    def _log_tail(self) -> str:
        return _tail(self.log_path.read_text(errors="replace"))

    def failure(self, error: BaseException, keep_log: Path) -> str:
        """One line for a run that ends because the server failed it (every retry included): whether the process
        died or stopped answering. Its log is copied to `keep_log` first, as leaving the `with` block deletes it."""
        lines = str(error).strip().splitlines() or [type(error).__name__]
        keep_log.parent.mkdir(parents=True, exist_ok=True)
        if self._dir is not None and self.log_path.exists():
            shutil.copyfile(self.log_path, keep_log)
        with keep_log.open("a", encoding="utf-8") as kept:  # the CLI's output, when the failure carries it
            kept.write("\n--- the error that ended the run ---\n" + "\n".join(lines) + "\n")
        exit_code = self._process.poll() if self._process is not None else None
        if exit_code is not None:
            what = f"exited with code {exit_code}"
        elif isinstance(error, HTTPClientError | BotoConnectionError):  # timeouts, refused or dropped connections
            what = "did not answer"
        else:
            what = "failed"
        reason = lines[0]
        return (
            f"error: the local AWS emulator (moto server, pid {self.pid}) {what}: {reason}; "
            f"it is stopped; its log: {keep_log}"
        )


def deploy_stack(
    endpoint_url: str,
    context: Mapping[str, str] | None = None,
    *,
    stack_name: str = STACK_NAME,
    disable_event_source_mappings: bool = True,
    timeout_seconds: float = 600,
) -> dict[str, str]:
    """`cdk bootstrap` and `cdk deploy` of the project's stack into the server; returns the stack outputs.

    `context` is passed as `-c key=value` over the documented example (`deploy_app_directory`), as
    `make deploy CDK_ARGS=...` does over cdk.json: the user's cdk.json settings (their instance, their stream) never
    reach the emulator.
    """
    context = dict(context or {})
    region = stack_region(context)
    account = _client("sts", endpoint_url, region).get_caller_identity()["Account"]
    env = _cli_environment(endpoint_url, region)
    with tempfile.TemporaryDirectory(prefix="cdk-deploy-") as work:
        _run_cdk(["bootstrap", f"aws://{account}/{region}", "--no-notices"], env, Path(work), timeout_seconds)
        outputs_file = Path(work) / "outputs.json"
        deploy = [
            "deploy",
            stack_name,
            "--require-approval=never",
            "--method=direct",
            "--no-previous-parameters",
            "--no-notices",
            "--progress=events",
            f"--output={Path(work) / 'cdk.out'}",  # not the checkout's cdk.out: `make synth` may be writing there
            f"--outputs-file={outputs_file}",
        ]
        for key, value in context.items():
            deploy += ["-c", f"{key}={value}"]
        _run_cdk(deploy, env, deploy_app_directory(Path(work) / "app"), timeout_seconds)
        outputs: dict[str, str] = json.loads(outputs_file.read_text())[stack_name]
    if disable_event_source_mappings:
        _disable_event_source_mappings(endpoint_url, region, stack_name)
    return outputs


@dataclass(frozen=True)
class DeployedFunction:
    logical_id: str
    function_name: str
    handler: str
    environment: dict[str, str]


def function_environments(
    endpoint_url: str, stack_name: str = STACK_NAME, *, region: str | None = None
) -> dict[str, DeployedFunction]:
    """Each function of the deployed stack by its handler ("connect_state.handlers.agent_events.lambda_handler"),
    with the environment variables the deployment gave it: what a handler needs to run in-process against the
    server (set them, plus AWS_ENDPOINT_URL, before importing the handler module)."""
    region = region or stack_region({})
    functions: dict[str, DeployedFunction] = {}
    lambda_ = _client("lambda", endpoint_url, region)
    for resource in _stack_resources(endpoint_url, region, stack_name, "AWS::Lambda::Function"):
        configuration = lambda_.get_function_configuration(FunctionName=resource["PhysicalResourceId"])
        function = DeployedFunction(
            logical_id=resource["LogicalResourceId"],
            function_name=configuration["FunctionName"],
            handler=configuration["Handler"],
            environment=dict(configuration.get("Environment", {}).get("Variables", {})),
        )
        if function.handler in functions:
            raise EmulatorError(f"two functions of {stack_name} have the handler {function.handler}")
        functions[function.handler] = function
    return functions


def deploy_app_directory(directory: Path) -> Path:
    """A directory whose cdk.json builds this project's app from `stacks.config.example_context()`: the repo
    cdk.json's CDK settings and feature flags with the documented example, so the demo deploys the same stack
    whatever the user's cdk.json says. Its app runs with this interpreter, the one with aws_cdk."""
    settings = json.loads(deployment_config.CDK_JSON.read_text())
    settings.pop("watch", None)
    settings["app"] = shlex.join([sys.executable, str(REPO / "app.py")])
    settings["context"] = deployment_config.example_context()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cdk.json").write_text(json.dumps(settings, indent=2) + "\n")
    return directory


def client_config(read_timeout_seconds: float = READ_TIMEOUT_SECONDS) -> Config:
    """How the demo's own clients talk to the server (see READ_TIMEOUT_SECONDS)."""
    return Config(
        connect_timeout=10,
        read_timeout=read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},  # the first call and two retries
    )


def stack_region(context: Mapping[str, str]) -> str:
    """The Region the stack deploys to: that of the (first) Connect instance ARN, from `context` or the example."""
    arn: Any = context.get("connectInstanceArn") or deployment_config.EXAMPLE_CONTEXT["connectInstanceArn"]
    if isinstance(arn, str) and arn.startswith("["):
        arn = json.loads(arn)
    if isinstance(arn, list):
        arn = arn[0]
    return str(arn).split(":")[3]


def _run_cdk(arguments: list[str], env: dict[str, str], cwd: Path, timeout_seconds: float) -> None:
    command = [str(CDK), *arguments]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_seconds, check=False
        )
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"").decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        raise EmulatorError(f"cdk {arguments[0]} timed out after {timeout_seconds} s:\n{_tail(output)}") from None
    log.info("cdk %s: %.1f s", arguments[0], time.monotonic() - started)
    if result.returncode != 0:
        raise EmulatorError(
            f"`{' '.join(command)}` failed with exit code {result.returncode} (an 'XML parse error' is a 500 from "
            f"moto: its traceback is in LocalAws.log_path):\n{_tail(result.stdout + result.stderr)}"
        )


def _cli_environment(endpoint_url: str, region: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _CALLER_AWS_SETTINGS}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,  # no profile of the caller's ~/.aws (region, endpoint, SSO) applies
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
            # cdk.json's app is `python3 app.py`: the interpreter running this module is the one with aws_cdk.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    return env


def _disable_event_source_mappings(endpoint_url: str, region: str, stack_name: str) -> None:
    lambda_ = _client("lambda", endpoint_url, region)
    for resource in _stack_resources(endpoint_url, region, stack_name, "AWS::Lambda::EventSourceMapping"):
        lambda_.update_event_source_mapping(UUID=resource["PhysicalResourceId"], Enabled=False)


def _stack_resources(endpoint_url: str, region: str, stack_name: str, resource_type: str) -> list[dict[str, Any]]:
    cloudformation = _client("cloudformation", endpoint_url, region)
    return [
        dict(summary)
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for summary in page["StackResourceSummaries"]
        if summary["ResourceType"] == resource_type
    ]


def _client(service: str, endpoint_url: str, region: str) -> Any:
    # Any: boto3-stubs is installed for some services only (not lambda or sts).
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, region_name=region, config=client_config(), **CREDENTIALS
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-_TAIL_LINES:])


# --- the server process ------------------------------------------------------------------------------------------


def _serve(port: int) -> None:
    """moto's server with the CloudFormation models and fixes of workarounds 2-4 (this process only)."""
    from moto.awslambda.models import LayerVersion
    from moto.cloudformation import parsing
    from moto.cloudwatch.models import Alarm, cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table
    from moto.events.models import Archive, EventBus
    from moto.server import main as moto_server

    class GlobalTable(Table, CloudFormationModel):
        # moto files a model under the second part of its module name (here: dynamodb)
        __module__ = "moto.dynamodb.global_table"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::DynamoDB::GlobalTable"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Table:
            properties = dict(cloudformation_json["Properties"])
            (replica, *_) = properties.pop("Replicas", None) or [{}]
            # A replica setting in a GlobalTable, a table setting in moto: DeleteTable is refused here as in AWS.
            properties["DeletionProtectionEnabled"] = replica.get("DeletionProtectionEnabled", False)
            ttl = properties.pop("TimeToLiveSpecification", None)
            table = Table.create_from_cloudformation_json(
                resource_name, {"Properties": properties}, account_id, region_name, **kwargs
            )
            if ttl:
                dynamodb_backends[account_id][region_name].update_time_to_live(table.name, ttl)
            return table

    class CloudFormationAlarm(Alarm, CloudFormationModel):
        __module__ = "moto.cloudwatch.cloudformation_alarm"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            if attribute_name == "Arn":
                return self.alarm_arn
            raise NotImplementedError(f"Fn::GetAtt {{0}}.{attribute_name}")

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Alarm:
            p = cloudformation_json["Properties"]
            alarm = cls(
                account_id=account_id,
                region_name=region_name,
                name=resource_name,
                namespace=p.get("Namespace", ""),
                metric_name=p.get("MetricName", ""),
                metric_data_queries=None,
                comparison_operator=p["ComparisonOperator"],
                evaluation_periods=int(p["EvaluationPeriods"]),
                datapoints_to_alarm=p.get("DatapointsToAlarm"),
                period=int(p.get("Period", 60)),
                threshold=float(p.get("Threshold", 0)),
                statistic=p.get("Statistic", ""),
                extended_statistic=p.get("ExtendedStatistic"),
                description=p.get("AlarmDescription", ""),
                dimensions=p.get("Dimensions", []),
                alarm_actions=p.get("AlarmActions", []),
                ok_actions=p.get("OKActions"),
                insufficient_data_actions=p.get("InsufficientDataActions"),
                unit=p.get("Unit"),
                actions_enabled=p.get("ActionsEnabled", True),
                treat_missing_data=p.get("TreatMissingData"),
                evaluate_low_sample_count_percentile=None,
                threshold_metric_id=None,
                rule=None,
            )
            cloudwatch_backends[account_id][region_name].alarms[resource_name] = alarm
            return alarm

        @classmethod
        def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
        ) -> None:
            cloudwatch_backends[account_id][region_name].alarms.pop(resource_name, None)

    create_archive = Archive.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def archive_from_template(
        cls: type[Archive], resource_name: str, cloudformation_json: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Archive:
        properties = dict(cloudformation_json["Properties"])
        if isinstance(properties.get("EventPattern"), dict):
            properties["EventPattern"] = json.dumps(properties["EventPattern"])
        # Archive names are at most 48 characters; CloudFormation generates a short one.
        name = resource_name if len(resource_name) <= 48 else resource_name[-48:].lstrip("-")
        return create_archive(cls, name, {**cloudformation_json, "Properties": properties}, *args, **kwargs)  # type: ignore[no-any-return]

    type.__setattr__(Archive, "create_from_cloudformation_json", classmethod(archive_from_template))
    type.__setattr__(EventBus, "physical_resource_id", property(lambda bus: bus.name))
    type.__setattr__(LayerVersion, "physical_resource_id", property(lambda layer: layer.arn))
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # the model list is CloudFormationModel.__subclasses__(), cached on first use
    moto_server(["--host", "127.0.0.1", "--port", str(port)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto server with the fixes this project's stack needs")
    parser.add_argument("--port", type=int, required=True)
    _serve(parser.parse_args().port)
