"""`make bootstrap/deploy/diff/destroy` first run tools.preflight: whatever stands in the way is said in one line,
with the fix, before the CDK CLI starts (it would say "Unable to resolve AWS account to use", twice)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from stacks.config import EXAMPLE_INSTANCE_ARN, DeploymentConfig, load_config
from tools import preflight
from tools.preflight import PreflightError, check

REGION = "eu-west-2"
MOTO_ACCOUNT = "123456789012"  # the account moto answers GetCallerIdentity with
OTHER_ACCOUNT = "210987654321"
UNKNOWN_INSTANCE = "0a1b2c3d-1111-2222-3333-444455556666"
# The tools read cdk.json as the CLI does: give them the example, whatever the user's cdk.json says.
pytestmark = pytest.mark.usefixtures("example_cdk_json")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine where nobody ran `aws configure`: no environment keys, no files, no instance metadata."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def instance_arn(aws: None) -> str:
    """An Amazon Connect instance in moto's account, in the Region the stack deploys to."""
    connect = boto3.client("connect", region_name=REGION)
    return connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED", InboundCallsEnabled=True, OutboundCallsEnabled=True
    )["Arn"]


def config_for(arn: str) -> DeploymentConfig:
    return load_config({"connectInstanceArn": arn})


def bootstrap(version: str = "28") -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value=version, Type="String"
    )


def refusal(command: str, config: DeploymentConfig, session: boto3.Session | None = None) -> str:
    with pytest.raises(PreflightError) as raised:
        check(command, config, session or boto3.Session())
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("command", ["bootstrap", "deploy", "diff", "destroy"])
def test_the_documented_example_instance_is_refused_before_any_aws_call(command: str, no_credentials: None) -> None:
    # Given cdk.json's example ARN (synth and the demo build from it), When a command would touch AWS
    message = refusal(command, config_for(EXAMPLE_INSTANCE_ARN))
    # Then it says so, and where the real ARN goes (not "no credentials": that check comes after)
    assert "documented example" in message
    assert "connectInstanceArn" in message


def test_no_credentials_is_one_line_with_the_fix(no_credentials: None) -> None:
    message = refusal("deploy", config_for(f"arn:aws:connect:{REGION}:{MOTO_ACCOUNT}:instance/{UNKNOWN_INSTANCE}"))
    assert message.startswith("no AWS credentials")
    assert "aws configure" in message
    assert MOTO_ACCOUNT in message  # which account they must be for


def test_credentials_of_another_account_are_refused(aws: None) -> None:
    # Given credentials for moto's account and an instance ARN in another account
    message = refusal("deploy", config_for(f"arn:aws:connect:{REGION}:{OTHER_ACCOUNT}:instance/{UNKNOWN_INSTANCE}"))
    # Then both accounts are named
    assert f"credentials are for account {MOTO_ACCOUNT}" in message
    assert OTHER_ACCOUNT in message


def test_rejected_credentials_are_named_with_the_fix(aws: None) -> None:
    session = boto3.Session()
    sts = session.client("sts", region_name=REGION)
    with Stubber(sts) as stubber:
        stubber.add_client_error("get_caller_identity", "ExpiredToken", "The security token included is expired")
        session.client = lambda *args, **kwargs: sts  # type: ignore[method-assign]
        message = refusal(
            "deploy", config_for(f"arn:aws:connect:{REGION}:{MOTO_ACCOUNT}:instance/{UNKNOWN_INSTANCE}"), session
        )
    assert message.startswith("AWS rejected the credentials (ExpiredToken")


def test_an_instance_not_in_that_account_and_region_is_refused(aws: None) -> None:
    # Given an instance created in eu-west-2, and the ARN naming it in another Region
    arn = boto3.client("connect", region_name=REGION).create_instance(
        IdentityManagementType="CONNECT_MANAGED", InboundCallsEnabled=True, OutboundCallsEnabled=True
    )["Arn"]
    wrong_region = arn.replace(f":{REGION}:", ":us-east-1:")
    message = refusal("deploy", config_for(wrong_region))
    assert "no Amazon Connect instance" in message
    assert "us-east-1" in message


@pytest.mark.parametrize("command", ["deploy", "diff"])
def test_an_account_not_bootstrapped_in_the_instance_region_is_refused(instance_arn: str, command: str) -> None:
    message = refusal(command, config_for(instance_arn))
    assert f"not bootstrapped in {REGION}" in message
    assert "make bootstrap" in message


def test_a_bootstrap_older_than_the_template_needs_is_refused(instance_arn: str) -> None:
    bootstrap(version="5")
    message = refusal("deploy", config_for(instance_arn))
    assert "version 5" in message
    assert "make bootstrap" in message


def test_a_ready_account_gets_one_line_saying_where_the_deploy_goes(instance_arn: str) -> None:
    bootstrap()
    ready = check("deploy", config_for(instance_arn), boto3.Session())
    assert ready.line() == f"preflight: account {MOTO_ACCOUNT}, {REGION}, bootstrap version 28: ready to deploy"


def test_bootstrap_needs_no_bootstrap(instance_arn: str) -> None:
    ready = check("bootstrap", config_for(instance_arn), boto3.Session())
    assert ready.line() == f"preflight: account {MOTO_ACCOUNT}, {REGION}: ready to bootstrap"


def test_destroy_reports_a_missing_stack_instead_of_failing(instance_arn: str) -> None:
    ready = check("destroy", config_for(instance_arn), boto3.Session())
    assert ready.stack_exists is False


def test_the_command_line_reads_cdk_args_and_prints_one_line(
    instance_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given `make deploy CDK_ARGS='-c connectInstanceArn=...'` on an account that is not bootstrapped
    code = preflight.main(["deploy", "-c", f"connectInstanceArn={instance_arn}", "--require-approval", "never"])
    # Then one line on stderr and a failing exit code
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert captured.err.startswith(f"error: account {MOTO_ACCOUNT} is not bootstrapped in {REGION}")


def test_the_command_line_rejects_a_bad_context_value_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight.main(["deploy", "--context", "connectInstanceArn=arn:aws:connect:eu-west-2:1:instance/x"]) == 1
    assert capsys.readouterr().err.startswith('error: cdk.json context "connectInstanceArn"')


def test_the_cdk_profile_option_chooses_the_credentials(
    no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # `make deploy CDK_ARGS='--profile prod'`: the CLI would use that profile, so the checks do too
    arn = f"arn:aws:connect:{REGION}:{MOTO_ACCOUNT}:instance/{UNKNOWN_INSTANCE}"
    assert preflight.main(["deploy", "--profile", "prod", "-c", f"connectInstanceArn={arn}"]) == 1
    assert capsys.readouterr().err == "error: The config profile (prod) could not be found\n"
