"""Before `make bootstrap`, `deploy`, `diff` or `destroy`: what stands in the way, in one line, with the fix.

    .venv/bin/python -m tools.preflight deploy [CDK_ARGS...]

The CDK CLI says "Unable to resolve AWS account to use" (twice) for missing credentials, deploys into whatever account
the credentials belong to, and fails late on a missing bootstrap. The checks, in order, each with one AWS call at most:
the documented example instance (no call), credentials (STS GetCallerIdentity in the instance's Region), the account
that owns the instance, the instance itself (Connect DescribeInstance: a wrong Region or id), then the bootstrap
(SSM `/cdk-bootstrap/<qualifier>/version`, what the CLI itself reads) for deploy and diff, or the stack for destroy.
A check that is refused (AccessDenied) is skipped rather than blocking a deployer with narrower rights.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from stacks.config import (
    CDK_JSON,
    CONNECT_INSTANCE_ARN,
    EXAMPLE_INSTANCE_ARN,
    STACK_NAME,
    ConfigError,
    DeploymentConfig,
    load_config,
)

COMMANDS = ("bootstrap", "deploy", "diff", "destroy")
DEFAULT_QUALIFIER = "hnb659fds"
QUALIFIER_KEY = "@aws-cdk/core:bootstrapQualifier"
# The synthesized stack's manifest: requiresBootstrapStackVersion 6 (file assets through the deploy role).
MIN_BOOTSTRAP_VERSION = 6
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


class PreflightError(Exception):
    """What is missing and how to fix it: one line."""


@dataclass(frozen=True)
class Ready:
    command: str
    account: str
    region: str
    bootstrap_version: int | None = None  # deploy and diff
    stack_exists: bool | None = None  # destroy

    def line(self) -> str:
        where = f"account {self.account}, {self.region}"
        if self.bootstrap_version is not None:
            where += f", bootstrap version {self.bootstrap_version}"
        return f"preflight: {where}: ready to {self.command}"


def check(
    command: str,
    config: DeploymentConfig,
    session: boto3.Session,
    *,
    stack_name: str = STACK_NAME,
    qualifier: str = DEFAULT_QUALIFIER,
) -> Ready:
    """Raises PreflightError (one line) when `command` cannot work with this configuration and these credentials."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    region = config.region
    account = _instance_account(config)
    if EXAMPLE_INSTANCE_ARN in config.connect_instance_arns:
        raise PreflightError(
            f"connectInstanceArn is the documented example ({EXAMPLE_INSTANCE_ARN}): set your instance's ARN "
            "(Amazon Connect console, the instance's Overview) in cdk.json, "
            "or pass CDK_ARGS='-c connectInstanceArn=<ARN>'"
        )
    _check_credentials(session, account, region)
    if command in ("deploy", "diff"):
        _check_instances(session, config, account)
        return Ready(
            command, account, region, bootstrap_version=_bootstrap_version(session, account, region, qualifier)
        )
    if command == "destroy":
        return Ready(command, account, region, stack_exists=_stack_exists(session, region, stack_name))
    return Ready(command, account, region)


def _instance_account(config: DeploymentConfig) -> str:
    match = CONNECT_INSTANCE_ARN.match(config.connect_instance_arns[0])
    assert match is not None  # validated by load_config
    return match.group("account")


def _check_credentials(session: boto3.Session, account: str, region: str) -> None:
    fix = (
        f"run `aws configure` (or `aws sso login`, then set AWS_PROFILE) for account {account}, which owns the instance"
    )
    try:
        if session.get_credentials() is None:
            raise PreflightError(f"no AWS credentials: {fix}")
        identity = session.client("sts", region_name=region).get_caller_identity()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        message = error.response["Error"].get("Message", "")
        raise PreflightError(f"AWS rejected the credentials ({code}: {message}): {fix}") from None
    except BotoCoreError as error:  # an expired SSO session, a profile that does not exist, no network
        raise PreflightError(f"no usable AWS credentials ({_one_line(error)}): {fix}") from None
    if identity["Account"] != account:
        raise PreflightError(
            f"the credentials are for account {identity['Account']} ({identity['Arn']}), but the instance in "
            f"connectInstanceArn is in account {account}: use that account's credentials (AWS_PROFILE=<profile>)"
        )


def _check_instances(session: boto3.Session, config: DeploymentConfig, account: str) -> None:
    connect = session.client("connect", region_name=config.region)
    for arn, instance_id in zip(config.connect_instance_arns, config.instance_ids, strict=True):
        try:
            connect.describe_instance(InstanceId=instance_id)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ResourceNotFoundException":
                raise PreflightError(
                    f"no Amazon Connect instance {instance_id} in account {account}, {config.region}: check the "
                    f"Region and id in connectInstanceArn ({arn}) against the Connect console"
                ) from None
            if code not in _DENIED:
                raise PreflightError(f"Connect DescribeInstance failed for {arn}: {code}") from None


def _bootstrap_version(session: boto3.Session, account: str, region: str, qualifier: str) -> int | None:
    fix = f"run `make bootstrap` (once per account and Region; the stack deploys to the instance's Region, {region})"
    try:
        parameter = session.client("ssm", region_name=region).get_parameter(Name=f"/cdk-bootstrap/{qualifier}/version")
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ParameterNotFound":
            raise PreflightError(f"account {account} is not bootstrapped in {region}: {fix}") from None
        if code in _DENIED:
            return None
        raise PreflightError(f"cannot read the CDK bootstrap version in {region}: {code}") from None
    version = int(parameter["Parameter"]["Value"])
    if version < MIN_BOOTSTRAP_VERSION:
        raise PreflightError(
            f"account {account} is bootstrapped in {region} with version {version}; this stack needs "
            f"{MIN_BOOTSTRAP_VERSION} or later: {fix}"
        )
    return version


def _stack_exists(session: boto3.Session, region: str, stack_name: str) -> bool:
    try:
        session.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)
    except ClientError as error:
        if "does not exist" in error.response["Error"].get("Message", ""):
            return False
        raise PreflightError(f"cannot read stack {stack_name} in {region}: {_one_line(error)}") from None
    return True


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


# --- the command line: the make targets pass CDK_ARGS on, as the CDK CLI reads them ---------------------------------


@dataclass(frozen=True)
class CdkArguments:
    """What the checks need from the CDK CLI's arguments: its `-c key=value` context and its `--profile`."""

    context: dict[str, str]
    profile: str | None


def parse_cdk_arguments(arguments: Sequence[str]) -> CdkArguments:
    context: dict[str, str] = {}
    profile = None
    words = iter(arguments)
    for word in words:
        option, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if option in ("-c", "--context"):
            key, _, context_value = (value if equals else next(words, "")).partition("=")
            context[key] = context_value
        elif option == "--profile":
            profile = value if equals else next(words, None)
    return CdkArguments(context, profile)


def context_with(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """cdk.json's context with the command line's `-c` values over it, as the CDK CLI gives it to the app."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text()).get("context", {})
    return {**context, **overrides}


def prepare(command: str, arguments: Sequence[str]) -> tuple[DeploymentConfig, boto3.Session, str]:
    """The configuration, a session with the CLI's profile, and the bootstrap qualifier; ConfigError on bad context."""
    cdk = parse_cdk_arguments(arguments)
    context = context_with(cdk.context)
    config = load_config(context)
    session = boto3.Session(profile_name=cdk.profile) if cdk.profile else boto3.Session()
    return config, session, str(context.get(QUALIFIER_KEY) or DEFAULT_QUALIFIER)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in COMMANDS:
        print(f"usage: python -m tools.preflight {{{','.join(COMMANDS)}}} [CDK CLI arguments]", file=sys.stderr)
        return 2
    command = arguments[0]
    try:
        config, session, qualifier = prepare(command, arguments[1:])
        ready = check(command, config, session, qualifier=qualifier)
    except (ConfigError, PreflightError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BotoCoreError as error:  # e.g. --profile names a profile that does not exist
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 1
    print(ready.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
