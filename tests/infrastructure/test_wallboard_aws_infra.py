"""The wallboard in AWS as deployed (`wallboard.hosted`, the default): nobody anonymous reaches anything. Every route of
the snapshot API checks a user pool token of the board's app client; the `board` namespace takes publishes from IAM
alone and subscriptions (and connections) from the user pool alone, through the scope handler; the board function may
publish to that namespace and nothing else; the snapshot function only reads; the user pool admits no one by itself;
the app client is a public PKCE client whose only address is the wallboard's. Without the hosted board (the demo), none
of it exists and nothing is published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest

from connect_state.config import Env
from stacks.config import STACK_NAME, ConfigError, example_context, load_config
from tests.infrastructure.conftest import logical_id_of, only, properties_at, resources, synth
from tests.infrastructure.test_monitoring_infra import alarms
from tests.infrastructure.test_nag_suppressions_infra import matches, nag_report, suppressions
from tests.infrastructure.test_wallboard_infra import as_list, board_function, statements_of

pytestmark = pytest.mark.xdist_group("cdk")
ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_HANDLER = "connect_state.handlers.board_snapshot.lambda_handler"
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"
SAML = {"type": "SAML", "name": "Entra", "metadataUrl": "https://login.example.com/federationmetadata.xml"}
SECRET = "arn:aws:secretsmanager:eu-west-2:111122223333:secret:wallboard-oidc-AbCdEf"
OIDC = {
    "type": "OIDC",
    "name": "Okta",
    "issuer": "https://example.okta.com",
    "clientId": "0oa1b2c3d4",
    "clientSecretArn": SECRET,
}
COGNITO = "AMAZON_COGNITO_USER_POOLS"
HOSTED_TYPES = (
    "AWS::AppSync::Api",
    "AWS::AppSync::ChannelNamespace",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolGroup",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Route",
    "AWS::CloudFront::Distribution",
    "Custom::CDKBucketDeployment",
)
OUTPUTS = {
    "WallboardUrl",
    "WallboardUserPoolId",
    "WallboardUserPoolClientId",
    "WallboardSignInDomain",
    "WallboardEventApiHttpDns",
    "WallboardEventApiRealtimeDns",
    "WallboardSnapshotUrl",
}


def ref(template: Any, resource_type: str, path_part: str) -> dict[str, str]:
    return {"Ref": logical_id_of(template, resource_type, path_part)}


def distribution_url(template: Any) -> dict[str, Any]:
    distribution = logical_id_of(template, "AWS::CloudFront::Distribution", "WallboardHosting/Distribution")
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}, "/"]]}


def snapshot_function(template: Any) -> tuple[str, dict[str, Any]]:
    ((logical_id, function),) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in resources(template, "AWS::Lambda::Function").items()
        if resource["Properties"].get("Handler") == SNAPSHOT_HANDLER
    ]
    return logical_id, function


def granted(template: Any, function_id: str, prefix: str) -> set[tuple[str, str]]:
    """(action, resource as JSON) for every statement of the function's role on actions starting with `prefix`."""
    return {
        (action, json.dumps(resource, sort_keys=True))
        for statement in statements_of(template, function_id)
        for action in as_list(statement["Action"])
        if action.startswith(prefix) or action == "*"
        for resource in as_list(statement["Resource"])
    }


def namespace_arn(template: Any) -> dict[str, Any]:
    api = logical_id_of(template, "AWS::AppSync::Api", "WallboardPush/EventApi")
    return {
        "Fn::Join": [
            "",
            [
                "arn:aws:appsync:eu-west-2:",
                {"Ref": "AWS::AccountId"},
                ":apis/",
                {"Fn::GetAtt": [api, "ApiId"]},
                "/channelNamespace/board",
            ],
        ]
    }


# --- authorisation: every route, every channel ------------------------------------------------------------------------


def test_every_route_of_the_snapshot_api_checks_a_token_of_the_boards_app_client() -> None:
    _, template = synth()
    routes = resources(template, "AWS::ApiGatewayV2::Route")
    # Given the snapshot API's routes, Then there is one, GET /snapshot, and no catch-all ($default) route
    assert [route["Properties"]["RouteKey"] for route in routes.values()] == ["GET /snapshot"]
    (authorizer_id,) = resources(template, "AWS::ApiGatewayV2::Authorizer")
    for route in routes.values():
        # And each is authorised by the JWT authorizer (no route with AuthorizationType NONE)
        assert route["Properties"]["AuthorizationType"] == "JWT"
        assert route["Properties"]["AuthorizerId"] == {"Ref": authorizer_id}
    authorizer = only(template, "AWS::ApiGatewayV2::Authorizer")
    pool = logical_id_of(template, "AWS::Cognito::UserPool", "WallboardSignIn/UserPool")
    # Whose tokens are the user pool's, for the board's app client only
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"] == {
        "Issuer": {
            "Fn::Join": ["", ["https://cognito-idp.", {"Ref": "AWS::Region"}, ".amazonaws.com/", {"Ref": pool}]]
        },
        "Audience": [ref(template, "AWS::Cognito::UserPoolClient", "WallboardSignIn/UserPool/BoardClient")],
    }


def test_the_snapshot_api_answers_browsers_of_the_wallboards_origin_only_throttled_and_logged() -> None:
    _, template = synth(kmsKeyArn=KEY)
    api = only(template, "AWS::ApiGatewayV2::Api")
    distribution = logical_id_of(template, "AWS::CloudFront::Distribution", "WallboardHosting/Distribution")
    # CORS: the wallboard's origin alone (no path, no wildcard), GET with the Authorization header, no credentials
    assert api["CorsConfiguration"]["AllowOrigins"] == [
        {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}
    ]
    assert api["CorsConfiguration"]["AllowMethods"] == ["GET"]
    assert api["CorsConfiguration"]["AllowHeaders"] == ["authorization"]
    assert not api["CorsConfiguration"].get("AllowCredentials")
    stage = only(template, "AWS::ApiGatewayV2::Stage")
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    log_group = logical_id_of(template, "AWS::Logs::LogGroup", "WallboardPush/SnapshotApiAccessLogs")
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": [log_group, "Arn"]}
    logged = json.loads(stage["AccessLogSettings"]["Format"])
    assert {"requestId", "status", "authorizerError"} <= set(logged)
    # And the access log is encrypted with the customer key, like every log group of the stack
    access_logs = resources(template, "AWS::Logs::LogGroup")[log_group]["Properties"]
    assert access_logs["KmsKeyId"] == KEY
    assert access_logs["RetentionInDays"] > 0


def test_the_board_namespace_takes_publishes_from_iam_and_subscriptions_from_the_user_pool_only() -> None:
    _, template = synth()
    api = only(template, "AWS::AppSync::Api")["EventConfig"]
    pool = ref(template, "AWS::Cognito::UserPool", "WallboardSignIn/UserPool")
    # The API knows two ways to authorise, the stack's user pool and IAM (no API key, no Lambda, no OIDC of its own)
    assert api["AuthProviders"] == [
        {"AuthType": COGNITO, "CognitoConfig": {"AwsRegion": "eu-west-2", "UserPoolId": pool}},
        {"AuthType": "AWS_IAM"},
    ]
    # A WebSocket is opened with a user pool token only
    assert api["ConnectionAuthModes"] == [{"AuthType": COGNITO}]
    (namespace,) = [n["Properties"] for n in resources(template, "AWS::AppSync::ChannelNamespace").values()]
    assert namespace["Name"] == "board"
    assert namespace["PublishAuthModes"] == [{"AuthType": "AWS_IAM"}]
    assert namespace["SubscribeAuthModes"] == [{"AuthType": COGNITO}]


def test_the_scope_handler_is_the_namespaces_code() -> None:
    stack, template = synth()
    (namespace,) = [n["Properties"] for n in resources(template, "AWS::AppSync::ChannelNamespace").values()]
    # Given the namespace's code location, Then it is the asset of stacks/appsync/board_namespace.js, byte for byte
    location = namespace["CodeS3Location"]["Fn::Sub"]
    asset = Path(cast(cdk.App, stack.node.root).outdir) / f"asset.{location.rsplit('/', 1)[1]}"
    assert asset.read_bytes() == (ROOT / "stacks" / "appsync" / "board_namespace.js").read_bytes()
    assert "onSubscribe" in asset.read_text()
    assert "CodeHandlers" not in namespace  # the asset, not inline code


# --- least privilege --------------------------------------------------------------------------------------------------


def test_the_board_function_publishes_to_the_board_namespace_and_nothing_else_of_appsync() -> None:
    _, template = synth()
    function_id, function = board_function(template)
    # Its only AppSync permission: EventPublish on the `board` namespace (not the API, not another namespace)
    assert granted(template, function_id, "appsync:") == {
        ("appsync:EventPublish", json.dumps(namespace_arn(template), sort_keys=True))
    }
    # And it publishes to the Event API's HTTP endpoint, signed (SigV4) with its role
    api = logical_id_of(template, "AWS::AppSync::Api", "WallboardPush/EventApi")
    variables = function["Environment"]["Variables"]
    assert variables[Env.CHANNEL_PUBLISH_URL] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [api, "Dns.Http"]}, "/event"]]
    }
    assert variables[Env.CHANNEL_PUBLISH_AUTH] == "iam"


def test_the_snapshot_function_only_reads_the_two_queue_indexes_and_the_board_table() -> None:
    _, template = synth()
    function_id, function = snapshot_function(template)
    contact = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/ContactState")
    board = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "Wallboard/BoardTable")

    def index(name: str) -> str:
        return json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [contact, "Arn"]}, f"/index/{name}"]]}, sort_keys=True)

    table = json.dumps({"Fn::GetAtt": [board, "Arn"]}, sort_keys=True)
    # Exactly what the snapshot path calls: no write, no stream, no agent table, no other table or index
    assert granted(template, function_id, "dynamodb:") == {
        ("dynamodb:Query", index("byQueue")),
        ("dynamodb:Query", index("byQueueEnqueued")),
        ("dynamodb:GetItem", table),
        ("dynamodb:Query", table),
    }
    assert granted(template, function_id, "appsync:") == set()
    # And it never publishes (only the board function does), with the settings synth validated
    variables = function["Environment"]["Variables"]
    assert (variables[Env.CHANNEL_PUBLISH_URL], variables[Env.CHANNEL_PUBLISH_AUTH]) == ("disabled", "none")
    assert variables[Env.BOARD_TABLE_NAME] == {"Ref": board}
    # And the API alone may invoke it, on its GET /snapshot route
    permissions = [
        p["Properties"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    assert [p["Principal"] for p in permissions] == ["apigateway.amazonaws.com"]
    assert json.dumps(permissions[0]["SourceArn"]).endswith('"/*/*/snapshot"]]}')


def test_with_a_customer_key_the_snapshot_function_may_only_decrypt() -> None:
    _, template = synth(kmsKeyArn=KEY)
    function_id, _ = snapshot_function(template)
    assert granted(template, function_id, "kms:") == {("kms:Decrypt", json.dumps(KEY))}


# --- sign-in ----------------------------------------------------------------------------------------------------------


def test_the_user_pool_admits_no_one_by_itself_and_requires_an_authenticator_app() -> None:
    _, template = synth()
    pools = resources(template, "AWS::Cognito::UserPool")
    ((pool_id, pool),) = pools.items()
    properties = pool["Properties"]
    # No self sign-up: an administrator creates each supervisor
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert properties["UsernameAttributes"] == ["email"]
    # A strong password and a second factor from an authenticator app (no SMS)
    policy = properties["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[key] for key in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert properties["MfaConfiguration"] == "ON"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    # Users and their groups outlive the stack
    assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert properties["DeletionProtection"] == "ACTIVE"
    # And the stack creates the group that sees everything; the per-queue and per-agent-group ones are the admin's
    (group,) = [g["Properties"] for g in resources(template, "AWS::Cognito::UserPoolGroup").values()]
    assert (group["GroupName"], group["UserPoolId"]) == ("wallboard-all", {"Ref": pool_id})


def test_the_app_client_is_a_public_pkce_client_whose_only_address_is_the_wallboards() -> None:
    _, template = synth()
    client = only(template, "AWS::Cognito::UserPoolClient")
    # No secret (a browser app keeps none); the authorization code flow only (PKCE), never implicit
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    # No password flows on the client: the hosted pages sign in, the client only refreshes
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    # Callback and sign-out: the distribution's address, nothing else
    assert client["CallbackURLs"] == [distribution_url(template)]
    assert client["LogoutURLs"] == [distribution_url(template)]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    # Tokens: an hour (a group change reaches a signed-in board within it), refresh for a shift
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"}
    assert (client["IdTokenValidity"], client["AccessTokenValidity"], client["RefreshTokenValidity"]) == (60, 60, 720)
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True


def test_the_sign_in_domain_is_derived_from_the_stack_and_the_account() -> None:
    _, template = synth()
    domain = only(template, "AWS::Cognito::UserPoolDomain")
    assert domain["Domain"] == {"Fn::Join": ["", [f"{STACK_NAME.lower()}-", {"Ref": "AWS::AccountId"}]]}
    assert not any(word in STACK_NAME.lower() for word in ("aws", "amazon", "cognito"))  # words Cognito refuses


def test_a_saml_provider_is_federated_into_the_pool_and_offered_by_the_client() -> None:
    _, template = synth(wallboard={"identityProvider": SAML})
    provider = only(template, "AWS::Cognito::UserPoolIdentityProvider")
    assert (provider["ProviderName"], provider["ProviderType"]) == ("Entra", "SAML")
    assert provider["ProviderDetails"]["MetadataURL"] == SAML["metadataUrl"]
    assert "email" in provider["AttributeMapping"]
    client_id = logical_id_of(template, "AWS::Cognito::UserPoolClient", "WallboardSignIn/UserPool/BoardClient")
    client = resources(template, "AWS::Cognito::UserPoolClient")[client_id]
    assert client["Properties"]["SupportedIdentityProviders"] == ["COGNITO", "Entra"]
    provider_id = logical_id_of(template, "AWS::Cognito::UserPoolIdentityProvider", "WallboardSignIn/Saml")
    assert provider_id in client["DependsOn"]  # the client may name the provider only once it exists


def test_an_oidc_providers_secret_is_read_at_deploy_and_never_written_in_the_template() -> None:
    _, template = synth(wallboard={"identityProvider": OIDC})
    provider = only(template, "AWS::Cognito::UserPoolIdentityProvider")
    assert (provider["ProviderName"], provider["ProviderType"]) == ("Okta", "OIDC")
    details = provider["ProviderDetails"]
    assert (details["oidc_issuer"], details["client_id"]) == (OIDC["issuer"], OIDC["clientId"])
    assert details["client_secret"] == f"{{{{resolve:secretsmanager:{SECRET}:SecretString:::}}}}"
    assert "openid" in details["authorize_scopes"].split()


@pytest.mark.parametrize(
    ("wallboard", "message"),
    [
        ({"identityProvider": {"type": "OIDC", "name": "Okta", "issuer": "https://x.okta.com"}}, "needs clientId"),
        ({"identityProvider": {**SAML, "metadataUrl": "http://login.example.com/m.xml"}}, "an https:// URL"),
        ({"identityProvider": {**SAML, "clientId": "abc"}}, "a SAML provider takes no clientId"),
        ({"identityProvider": {**SAML, "name": "COGNITO"}}, "not COGNITO"),
        ({"identityProvider": {**OIDC, "clientSecretArn": "my-secret"}}, "arn:aws:secretsmanager:"),
        ({"hosted": False, "identityProvider": SAML}, "set hosted true"),
        ({"domainName": "wallboard.example.com"}, "domainName and certificateArn go together"),
        ({"certificateArn": KEY.replace("kms", "acm")}, "an ACM certificate in us-east-1"),
    ],
)
def test_a_wrong_deployment_setting_fails_synth_naming_it(wallboard: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(example_context(wallboard=wallboard))
    assert str(raised.value).startswith('cdk.json context "wallboard')
    assert message in str(raised.value)


def test_the_deployments_own_keys_never_reach_the_functions_settings() -> None:
    config = load_config(example_context(wallboard={"timeZone": "Europe/London", "identityProvider": SAML}))
    assert config.wallboard.hosted is True
    assert config.wallboard.to_environment() == '{"timeZone":"Europe/London"}'


# --- what the page is told, the outputs, the alarms -------------------------------------------------------------------


def test_outputs_name_the_wallboard_and_what_an_administrator_needs() -> None:
    _, template = synth()
    outputs = template.to_json()["Outputs"]
    assert set(outputs) >= OUTPUTS
    assert outputs["WallboardUrl"]["Value"] == distribution_url(template)
    pool = logical_id_of(template, "AWS::Cognito::UserPool", "WallboardSignIn/UserPool")
    assert outputs["WallboardUserPoolId"]["Value"] == {"Ref": pool}


def test_the_alarms_on_publishes_snapshots_and_retried_batches_reach_the_topic() -> None:
    _, template = synth()
    by_name = alarms(template)
    topic = logical_id_of(template, "AWS::SNS::Topic", "Monitoring/AlarmTopic")
    api = logical_id_of(template, "AWS::AppSync::Api", "WallboardPush/EventApi")
    publish = by_name["WallboardPublishErrors"]
    # Failed publishes: the Event API's HTTP endpoint's 4XX and 5XX (only the board function uses that endpoint)
    expression, *using = publish["Metrics"]
    assert expression["Expression"] == "FILL(refused, 0) + FILL(failed, 0)"
    read = {m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Metric"] for m in using}
    assert set(read) == {"4XXError", "5XXError"}
    for metric in read.values():
        assert metric["Namespace"] == "AWS/AppSync"
        assert metric["Dimensions"] == [{"Name": "EventAPIId", "Value": {"Fn::GetAtt": [api, "ApiId"]}}]
    snapshot = by_name["WallboardSnapshotApiErrors"]
    assert (snapshot["Namespace"], snapshot["MetricName"]) == ("AWS/ApiGateway", "5xx")
    retried = by_name["WallboardBatchesRetried"]
    assert (retried["MetricName"], retried["EvaluationPeriods"], retried["DatapointsToAlarm"]) == (
        "BoardBatchesRetried",
        3,
        3,
    )
    for name in (
        "WallboardPublishErrors",
        "WallboardSnapshotApiErrors",
        "WallboardBatchesRetried",
        "WallboardSnapshotErrors",
        "WallboardSnapshotThrottles",
    ):
        assert by_name[name]["Threshold"] == 0, name
        assert by_name[name]["AlarmActions"] == [{"Ref": topic}], name
    # And the dashboard graphs them
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for graphed in ("4XXError", "5XXError", "Wallboard in AWS: push and snapshot errors"):
        assert graphed in body


# --- not hosted: the demo ---------------------------------------------------------------------------------------------


def test_without_the_hosted_board_none_of_it_exists_and_nothing_is_published() -> None:
    _, template = synth(**{"wallboard.hosted": "false"})
    for resource_type in HOSTED_TYPES:
        assert resources(template, resource_type) == {}, resource_type
    assert not OUTPUTS & set(template.to_json()["Outputs"])
    function_id, function = board_function(template)
    variables = function["Environment"]["Variables"]
    assert (variables[Env.CHANNEL_PUBLISH_URL], variables[Env.CHANNEL_PUBLISH_AUTH]) == ("disabled", "none")
    assert granted(template, function_id, "appsync:") == set()
    assert "WallboardPublishErrors" not in alarms(template)
    assert "WallboardBatchesRetried" in alarms(template)  # the read model still retries its reads


# --- cdk-nag ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [{"wallboard": {"identityProvider": SAML}, "kmsKeyArn": KEY}, {"wallboard": {"identityProvider": OIDC}}],
    ids=["saml, customer key", "oidc"],
)
def test_cdk_nag_finds_nothing_unsuppressed_with_federation(context: dict[str, Any]) -> None:
    stack, template = synth(**context)
    report = nag_report(stack)
    firing = [(r["Rule ID"], r["Resource ID"]) for r in report if r["Compliance"] not in ("Compliant", "Suppressed")]
    assert firing == []
    suppressed = [row for row in report if row["Compliance"] == "Suppressed"]
    unused = [
        (path, rule_id, entry)
        for path, rule_id, entry, reason in suppressions(template)
        if "/Wallboard" in path
        and not any(
            row["Resource ID"] == path and row["Rule ID"] == rule_id and matches(entry, reason, row["Exception Reason"])
            for row in suppressed
        )
    ]
    assert unused == []
    # And the user pool's one suppression says why the Plus plan is not taken
    pool_rules = [rule for path, rule, _, _ in suppressions(template) if "/WallboardSignIn/UserPool/" in path]
    assert pool_rules == ["AwsSolutions-COG8"]


def test_the_user_pool_is_found_by_its_path() -> None:
    _, template = synth()
    assert properties_at(template, "AWS::Cognito::UserPool", "WallboardSignIn/UserPool")["UsernameConfiguration"] == {
        "CaseSensitive": False
    }
