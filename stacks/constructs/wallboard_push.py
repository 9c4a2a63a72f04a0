"""The wallboard's two endpoints in AWS: the push (AWS AppSync Events) and the snapshot a board reads on (re)connecting.

Push: an Event API whose only namespace, `board`, takes publishes from IAM alone (the board function, SigV4) and
subscriptions from the user pool alone (a signed-in supervisor); its onSubscribe handler
(`stacks/appsync/board_namespace.js`) refuses a channel outside the caller's groups. A managed pub/sub: no connection
table, no clean-up of gone clients, no fan-out of our own (README "Wallboard in AWS").

Snapshot: an HTTP API with one route, `GET /snapshot`, behind a JWT authorizer (the user pool's tokens for the board's
app client), CORS for the wallboard's origin alone, throttled, logged. Its function answers the same document as the
local server (handlers/board_snapshot.py), narrowed to the caller's groups.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from connect_state.config import PUBLISHING_DISABLED, Env
from stacks.constants import METRIC_PERIOD
from stacks.constructs.lambda_runtime import LambdaRuntime

ROOT = Path(__file__).resolve().parents[2]
# The onSubscribe handler (APPSYNC_JS): the scope rule's JavaScript twin of domain/board_scope.py.
NAMESPACE_HANDLER = ROOT / "stacks" / "appsync" / "board_namespace.js"
NAMESPACE = "board"
# A board asks for a snapshot when it connects, reconnects or finds a gap: a whole floor of boards reloading at once
# is a burst of a few hundred; a steady rate above this is no board.
SNAPSHOT_RATE_PER_SECOND = 50
SNAPSHOT_BURST = 200
# What the snapshot path of service/board.py calls on the board table (the channels' sequence numbers, the agent
# rows); the queue views Query the contact table's two indexes. Nothing it calls writes.
SNAPSHOT_BOARD_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query"]
# One JSON line per request: who asked, what was answered, and why a request was refused.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "user": "$context.authorizer.claims.sub",
    "authorizerError": "$context.authorizer.error",
    "integrationError": "$context.integrationErrorMessage",
}


class WallboardPush(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: LambdaRuntime,
        user_pool: cognito.IUserPool,
        client: cognito.IUserPoolClient,
        issuer: str,
        board_origin: str,
        agent_table: dynamodb.ITableV2,
        contact_table: dynamodb.ITableV2,
        contact_index_names: Sequence[str],
        board_table: dynamodb.ITableV2,
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name
        cognito_auth = appsync.AppSyncAuthProvider(
            authorization_type=appsync.AppSyncAuthorizationType.USER_POOL,
            cognito_config=appsync.AppSyncCognitoConfig(user_pool=user_pool),
        )
        iam_auth = appsync.AppSyncAuthProvider(authorization_type=appsync.AppSyncAuthorizationType.IAM)
        self.event_api = appsync.EventApi(
            self,
            "EventApi",
            api_name=f"{stack_name}-wallboard",
            authorization_config=appsync.EventApiAuthConfig(
                auth_providers=[cognito_auth, iam_auth],
                # A WebSocket is opened by a signed-in board only; the board function publishes over HTTP.
                connection_auth_mode_types=[appsync.AppSyncAuthorizationType.USER_POOL],
                default_publish_auth_mode_types=[appsync.AppSyncAuthorizationType.IAM],
                default_subscribe_auth_mode_types=[appsync.AppSyncAuthorizationType.USER_POOL],
            ),
        )
        self.namespace = self.event_api.add_channel_namespace(
            NAMESPACE,
            channel_namespace_name=NAMESPACE,
            authorization_config=appsync.NamespaceAuthConfig(
                publish_auth_mode_types=[appsync.AppSyncAuthorizationType.IAM],
                subscribe_auth_mode_types=[appsync.AppSyncAuthorizationType.USER_POOL],
            ),
            code=appsync.Code.from_asset(str(NAMESPACE_HANDLER)),
        )
        # What the board function POSTs to (SigV4, service appsync), and what a board's WebSocket connects to.
        self.publish_url = f"https://{self.event_api.http_dns}/event"
        self.realtime_url = f"wss://{self.event_api.realtime_dns}/event/realtime"

        self.snapshot_function = self._snapshot_function(
            runtime, agent_table, contact_table, contact_index_names, board_table
        )
        self.http_api = apigwv2.HttpApi(
            self,
            "SnapshotApi",
            api_name=f"{stack_name}-wallboard-snapshot",
            description="The wallboard's snapshot of the channels a signed-in supervisor may see",
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=[board_origin],
                allow_methods=[apigwv2.CorsHttpMethod.GET],
                allow_headers=["authorization"],
                max_age=Duration.hours(1),
            ),
            create_default_stage=False,
        )
        authorizer = authorizers.HttpJwtAuthorizer(
            "UserPoolToken",
            jwt_issuer=issuer,
            # An ID token's `aud`, an access token's `client_id`: the board's app client, no other.
            jwt_audience=[client.user_pool_client_id],
            identity_source=["$request.header.Authorization"],
        )
        self.http_api.add_routes(
            path="/snapshot",
            methods=[apigwv2.HttpMethod.GET],
            integration=integrations.HttpLambdaIntegration("Snapshot", self.snapshot_function),
            authorizer=authorizer,
        )
        access_logs = logs.LogGroup(
            self,
            "SnapshotApiAccessLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=runtime.encryption_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "SnapshotApiStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            access_log_settings=_AccessLogs(access_logs),
            throttle=apigwv2.ThrottleSettings(rate_limit=SNAPSHOT_RATE_PER_SECOND, burst_limit=SNAPSHOT_BURST),
        )
        self.snapshot_url = f"{self.http_api.api_endpoint}/snapshot"

    def publish_errors(self) -> cloudwatch.MathExpression:
        """Publishes the Event API refused or failed: its HTTP endpoint's 4XX and 5XX (AWS/AppSync, per EventAPIId).
        Only the board function uses that endpoint (boards subscribe over the WebSocket): each is a failed publish."""
        return cloudwatch.MathExpression(
            expression="FILL(refused, 0) + FILL(failed, 0)",
            using_metrics={"refused": self._event_api_metric("4XXError"), "failed": self._event_api_metric("5XXError")},
            label="Publishes refused or failed (4XX + 5XX)",
            period=METRIC_PERIOD,
        )

    def _event_api_metric(self, name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/AppSync",
            metric_name=name,
            dimensions_map={"EventAPIId": self.event_api.api_id},
            statistic="Sum",
            period=METRIC_PERIOD,
        )

    def snapshot_errors(self) -> cloudwatch.Metric:
        """The snapshot API's 5xx: the function failed or timed out (a refused token is a 401/403, not counted)."""
        return self.http_api.metric_server_error(period=METRIC_PERIOD, statistic="Sum")

    def _snapshot_function(
        self,
        runtime: LambdaRuntime,
        agent_table: dynamodb.ITableV2,
        contact_table: dynamodb.ITableV2,
        contact_index_names: Sequence[str],
        board_table: dynamodb.ITableV2,
    ) -> lambda_.Function:
        # Its own construct: its alarms are `<stack>-WallboardSnapshotErrors` / `...Throttles` (Monitoring).
        scope = Construct(self, "WallboardSnapshot")
        function = runtime.function(
            scope,
            "Function",
            handler="connect_state.handlers.board_snapshot.lambda_handler",
            description="Wallboard snapshot of the channels a signed-in supervisor may see",
            timeout_seconds=10,
            writes_with_key=False,
            environment={
                Env.AGENT_TABLE_NAME: agent_table.table_name,
                Env.CONTACT_TABLE_NAME: contact_table.table_name,
                Env.BOARD_TABLE_NAME: board_table.table_name,
                Env.WALLBOARD_SETTINGS: runtime.config.wallboard.to_environment(),
                # It reads; only the board function publishes.
                Env.CHANNEL_PUBLISH_URL: PUBLISHING_DISABLED,
                Env.CHANNEL_PUBLISH_AUTH: "none",
            },
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="QueryQueueIndexes",
                actions=["dynamodb:Query"],
                resources=[f"{contact_table.table_arn}/index/{name}" for name in contact_index_names],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadBoardTable", actions=SNAPSHOT_BOARD_TABLE_ACTIONS, resources=[board_table.table_arn]
            )
        )
        if runtime.encryption_key is not None:
            runtime.encryption_key.grant_decrypt(function)
        return function


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """The stage's access log settings: a jsii interface (not a struct), so Python implements it (a dict is refused)."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._log_group = log_group

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return apigwv2.LogGroupLogDestination(self._log_group)

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")))
