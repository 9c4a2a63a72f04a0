"""What every function shares: runtime, architecture, the code asset, the dependencies layer, logging and tracing.

Each function has a role of its own that may write only to the function's own log group (AWSLambdaBasicExecutionRole
would allow any log group of the account), and the log group is encrypted with kmsKeyArn when it is set: its key
policy must then let logs.<region>.amazonaws.com use the key (README "Configuration").

The pipeline constructs take the runtime alone for what they all share: the configuration and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagSuppressions
from constructs import Construct

from stacks.config import ConfigError, DeploymentConfig
from stacks.constants import METRICS_NAMESPACE, SERVICE_NAME

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SOURCE = ROOT / "lambdas"
LAYER_SOURCE = ROOT / "build" / "powertools-layer"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64


class LambdaRuntime(Construct):
    """Builds functions that all run the one `lambdas/` asset with the project's Powertools layer."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, encryption_key: kms.IKey | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        # kmsKeyArn imported, or None: AWS-managed encryption everywhere.
        self.encryption_key = encryption_key
        if not (LAYER_SOURCE / "python" / "aws_lambda_powertools").is_dir():
            raise ConfigError(f"the Lambda layer is not built: run `make setup` (expected {LAYER_SOURCE}/python)")
        # Powertools, pydantic and the X-Ray SDK built for python3.13/arm64 by `make setup` (uv, no Docker).
        self.layer = lambda_.LayerVersion(
            self,
            "PowertoolsLayer",
            code=lambda_.Code.from_asset(str(LAYER_SOURCE), exclude=[".installed"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="aws-lambda-powertools[parser,tracer] and pydantic, pinned in lambdas/requirements.txt",
        )
        self.code = lambda_.Code.from_asset(
            str(LAMBDA_SOURCE),
            exclude=["**/__pycache__", "**/*.pyc", "requirements.txt", "**/.mypy_cache"],
        )

    def function(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        environment: dict[str, str],
        timeout_seconds: int = 60,
        memory_size: int = 512,
        writes_with_key: bool = True,
        **kwargs: Any,
    ) -> lambda_.Function:
        """A function of the runtime. `writes_with_key=False`: a reader, granted only kms:Decrypt on kmsKeyArn, so
        the wildcard actions of CDK's encrypt grants are not suppressed on its role (they never appear there)."""
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=self.encryption_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"The function: {description}",
        )
        # The log group exists, so no logs:CreateLogGroup; its ARN (`...:log-group:<name>:*`) covers its streams.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        function = lambda_.Function(
            scope,
            construct_id,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=self.code,
            layers=[self.layer],
            description=description,
            role=role,
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE if self.config.tracing else lambda_.Tracing.DISABLED,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": self.config.log_level,
                "POWERTOOLS_TRACE_DISABLED": "false" if self.config.tracing else "true",
                **environment,
            },
            **kwargs,
        )
        NagSuppressions.add_resource_suppressions(
            function,
            [
                {
                    "id": "AwsSolutions-L1",
                    "reason": "python3.13 is the runtime the layer is built and tested for (make setup, make test); "
                    "moving to a newer runtime is a deliberate upgrade, not a synth-time surprise.",
                }
            ],
        )
        if self.config.tracing:
            allow_wildcard(
                function,
                "Resource::*",
                "X-Ray tracing (Tracer): xray:PutTraceSegments and xray:PutTelemetryRecords, as CDK grants them for "
                "active tracing, support no resource-level permissions.",
            )
        if self.encryption_key is not None and writes_with_key:
            allow_wildcard(
                function,
                ["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"],
                "CDK's grants on the queues and tables encrypted with kmsKeyArn name these action families; the "
                "resource is that one key's ARN, not a wildcard.",
            )
        return function


def allow_wildcard(function: lambda_.Function, findings: str | dict[str, str] | list[Any], reason: str) -> None:
    """Suppress cdk-nag's IAM5 for exactly these findings (`Resource::...`, `Action::...`, or {"regex": "/.../"})
    on the function's role policy, where cdk-nag reports them, with the reason this wildcard is needed."""
    assert function.role is not None  # every function of LambdaRuntime has its role, with its log statement
    NagSuppressions.add_resource_suppressions(
        function.role.node.find_child("DefaultPolicy"),
        [
            {
                "id": "AwsSolutions-IAM5",
                "reason": reason,
                "appliesTo": findings if isinstance(findings, list) else [findings],
            }
        ],
    )
