"""Deploy this project's real stack into a local moto server: `cdk bootstrap` + `cdk deploy`, no AWS, no Docker.

    with LocalAws() as aws:
        outputs = deploy_stack(aws.endpoint_url, {"logLevel": "DEBUG"})
        functions = function_environments(aws.endpoint_url)

The server is demo.moto_server's `LocalAws` (a moto process with fixes 1-4 for this stack's CloudFormation, listed
there). Why each workaround on the deploying side exists (found with moto 5.2.5 and the pinned aws-cdk CLI 2.1148.1):

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

import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from demo.moto_server import EmulatorError as EmulatorError
from demo.moto_server import LocalAws as LocalAws
from demo.moto_server import output_tail
from stacks import config as deployment_config

REPO = Path(__file__).resolve().parents[1]
CDK = REPO / "node_modules" / ".bin" / "cdk"
STACK_NAME = deployment_config.STACK_NAME
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
# A busy machine slows the one emulator process down: a put_records of 500 records has taken over botocore's default
# 60 s. The demo's own calls wait longer and are retried on timeouts, refused connections and 5xx (standard mode);
# repeating them is safe: a record or message sent twice is a duplicate delivery, which the stack absorbs as it does
# AWS's own at-least-once delivery.
READ_TIMEOUT_SECONDS = 180
MAX_ATTEMPTS = 3

log = logging.getLogger(__name__)


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
    # The emulator runs no AppSync Events, CloudFront or Cognito sign-in pages: the hosted board stays out (the local
    # board server stands in for it), unless the caller says otherwise. Merged into any `wallboard` object given.
    context = {"wallboard.hosted": "false", **(context or {})}
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
        raise EmulatorError(f"cdk {arguments[0]} timed out after {timeout_seconds} s:\n{output_tail(output)}") from None
    log.info("cdk %s: %.1f s", arguments[0], time.monotonic() - started)
    if result.returncode != 0:
        raise EmulatorError(
            f"`{' '.join(command)}` failed with exit code {result.returncode} (an 'XML parse error' is a 500 from "
            f"moto: its traceback is in LocalAws.log_path):\n{output_tail(result.stdout + result.stderr)}"
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
