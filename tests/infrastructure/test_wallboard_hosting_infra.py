"""The wallboard's hosting as deployed: a private, TLS-only bucket that only this distribution may read (origin access
control), viewers sent to HTTPS with security headers that let the Connect agent workspace frame the board and the page
talk only to the Region's services, and a config.json generated at deploy from what the stack passes."""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from stacks.constructs.wallboard_hosting import WallboardHosting
from tests.infrastructure.conftest import only, resources, synth
from tests.infrastructure.test_nag_suppressions_infra import matches, nag_report, suppressions

pytestmark = pytest.mark.xdist_group("cdk")
SITE = Path(__file__).resolve().parents[2] / "wallboard"
REGION = "eu-west-2"
DOMAIN = "wallboard.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555"
WEB_ACL = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/wallboard/11111111-2222-3333-4444-555555555555"
# Files a site directory may hold that are not the client: none of them may reach the bucket.
NOT_THE_SITE = ("__pycache__/board.cpython-311.pyc", "notes.md", ".DS_Store", "config.json", "serve.py")


@cache
def hosted(custom_domain: bool = False) -> tuple[cdk.Stack, WallboardHosting, Template, dict[str, Any]]:
    """A stack with the construct alone (cdk-nag on), publishing a copy of wallboard/ with files that are not the
    client added, and a config with a token in it (the snapshot URL, known only at deploy)."""
    site = Path(tempfile.mkdtemp(prefix="wallboard-site-")) / "wallboard"
    atexit.register(shutil.rmtree, site.parent, True)
    shutil.copytree(SITE, site)
    for junk in NOT_THE_SITE:
        (site / junk).parent.mkdir(parents=True, exist_ok=True)
        (site / junk).write_text("{}")
    app = cdk.App(context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "WallboardHostingTest", env=cdk.Environment(account="111122223333", region=REGION))
    options = {"domain_name": DOMAIN, "certificate_arn": CERTIFICATE, "web_acl_arn": WEB_ACL} if custom_domain else {}
    hosting = WallboardHosting(stack, "Hosting", site_dir=site, **options)
    config = {
        "realtimeUrl": "wss://example.appsync-realtime-api.eu-west-2.amazonaws.com/event/realtime",
        "snapshotUrl": stack.format_arn(service="execute-api", resource="snapshot"),
        "auth": {"type": "cognito", "redirectUri": hosting.url},
        "clockRate": 1,
    }
    hosting.publish_site(config)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack, hosting, Template.from_stack(stack), config


def distribution(template: Template) -> dict[str, Any]:
    return only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]  # type: ignore[no-any-return]


def distribution_id(template: Template) -> str:
    (logical_id,) = resources(template, "AWS::CloudFront::Distribution")
    return logical_id


def security_headers(template: Template) -> dict[str, Any]:
    policy = only(template, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    return policy["SecurityHeadersConfig"]  # type: ignore[no-any-return]


def csp_directives(template: Template) -> dict[str, list[str]]:
    policy = security_headers(template)["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return {name: sources for name, *sources in (directive.split() for directive in policy.split(";"))}


def test_the_bucket_blocks_public_access_and_refuses_requests_without_tls() -> None:
    _, _, template, _ = hosted()
    bucket = only(template, "AWS::S3::Bucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    statements = only(template, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    denials = [s for s in statements if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denials]
    assert all(s["Principal"] == {"AWS": "*"} and s["Action"] == "s3:*" for s in denials)


def test_only_this_distribution_may_read_the_bucket() -> None:
    _, _, template, _ = hosted()
    statements = only(template, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    (allowed,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allowed["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allowed["Action"] == "s3:GetObject"
    source_arn = json.dumps(allowed["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert ":distribution/" in source_arn
    assert json.dumps({"Ref": distribution_id(template)}) in source_arn


def test_cloudfront_reads_the_bucket_through_origin_access_control_not_an_identity() -> None:
    _, _, template, _ = hosted()
    (origin,) = distribution(template)["Origins"]
    ((control_id, control),) = resources(template, "AWS::CloudFront::OriginAccessControl").items()
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [control_id, "Id"]}
    assert control["Properties"]["OriginAccessControlConfig"] | {"Name": None} == {
        "Name": None,
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    assert resources(template, "AWS::CloudFront::CloudFrontOriginAccessIdentity") == {}
    (bucket_id,) = resources(template, "AWS::S3::Bucket")
    assert origin["DomainName"] == {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}


def test_viewers_are_sent_to_https_and_the_root_serves_the_board() -> None:
    _, hosting, template, _ = hosted()
    config = distribution(template)
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["HttpVersion"] == "http2and3"
    assert config["PriceClass"] == "PriceClass_100"
    assert "Restrictions" not in config  # no geo restriction (README "Wallboard in AWS")
    assert cdk.Stack.of(hosting).resolve(hosting.url) == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id(template), "DomainName"]}, "/"]]
    }


def test_the_page_may_connect_only_to_itself_and_the_regions_appsync_api_gateway_and_cognito() -> None:
    _, _, template, _ = hosted()
    directives = csp_directives(template)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert sorted(directives["connect-src"]) == sorted(
        [
            "'self'",
            f"https://*.appsync-api.{REGION}.amazonaws.com",
            f"wss://*.appsync-realtime-api.{REGION}.amazonaws.com",
            f"https://*.execute-api.{REGION}.amazonaws.com",
            f"https://*.auth.{REGION}.amazoncognito.com",
            f"https://cognito-idp.{REGION}.amazonaws.com",
        ]
    )


def test_only_the_board_itself_and_the_connect_agent_workspace_may_frame_it() -> None:
    _, _, template, _ = hosted()
    assert csp_directives(template)["frame-ancestors"] == [
        "'self'",
        "https://*.my.connect.aws",
        "https://*.awsapps.com",
    ]
    # X-Frame-Options (DENY or SAMEORIGIN) would forbid the agent workspace's frame whatever the CSP allows.
    assert "FrameOptions" not in security_headers(template)


def test_every_response_has_hsts_nosniff_and_a_referrer_policy_over_whatever_the_origin_sends() -> None:
    _, _, template, _ = hosted()
    headers = security_headers(template)
    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 365 * 24 * 3600,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True}
    assert headers["ContentSecurityPolicy"]["Override"] is True


def deployment(template: Template) -> dict[str, Any]:
    return only(template, "Custom::CDKBucketDeployment")


def deployed_files(stack: cdk.Stack, template: Template) -> list[tuple[str, Path]]:
    """Each file the deployment copies into the bucket (object key, staged file), source by source, from the assets
    staged with the template."""
    outdir = Path(cast(cdk.App, stack.node.root).outdir)
    files = []
    for key in deployment(template)["SourceObjectKeys"]:
        staged = outdir / f"asset.{key.removesuffix('.zip')}"
        files += [(str(path.relative_to(staged)), path) for path in sorted(staged.rglob("*")) if path.is_file()]
    return files


def test_the_bucket_gets_the_client_and_nothing_else_from_its_directory() -> None:
    stack, _, template, _ = hosted()
    client = {
        str(path.relative_to(SITE)) for path in SITE.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    }
    keys = [key for key, _ in deployed_files(stack, template)]
    assert sorted(keys) == sorted([*client, "config.json"])  # the generated config.json only, once
    assert {"index.html", "app.js", "style.css"} <= client


def rendered(value: Any) -> str:
    """A resolved token as CloudFormation fills it in, with `<Ref>` and `<LogicalId.Attribute>` for what only the
    deploy knows."""
    if isinstance(value, str):
        return value
    ((function, argument),) = value.items()
    if function == "Fn::Join":
        return str(argument[0]).join(rendered(part) for part in argument[1])
    if function == "Ref":
        return f"<{argument}>"
    if function == "Fn::GetAtt":
        return f"<{argument[0]}.{argument[1]}>"
    raise AssertionError(f"unexpected {function}")


def test_config_json_is_the_config_the_stack_passed_with_its_tokens_filled_in_at_deploy() -> None:
    stack, _, template, config = hosted()
    (text,) = [path.read_text() for key, path in deployed_files(stack, template) if key == "config.json"]
    # The deployment replaces each marker by its value (a JSON string, quotes included), which CloudFormation
    # resolves, when it copies the file into the bucket.
    (markers,) = [m for m in deployment(template)["SourceMarkers"] if m]
    assert len(markers) == 2
    for marker, value in markers.items():
        assert marker in text
        text = text.replace(marker, rendered(value))
    assert json.loads(text) == {
        **config,
        "snapshotUrl": rendered(stack.resolve(config["snapshotUrl"])),
        "auth": {"type": "cognito", "redirectUri": f"https://<{distribution_id(template)}.DomainName>/"},
    }


def test_a_deploy_invalidates_every_file_and_browsers_revalidate_each_load() -> None:
    _, _, template, _ = hosted()
    properties = deployment(template)
    assert properties["DistributionId"] == {"Ref": distribution_id(template)}
    assert properties["DistributionPaths"] == ["/*"]
    assert properties["SystemMetadata"]["cache-control"] == "max-age=0, s-maxage=31536000"
    assert properties["Prune"] is True


def test_deleting_the_stack_deletes_the_site_files_and_the_bucket() -> None:
    _, _, template, _ = hosted()
    assert deployment(template)["RetainOnDelete"] is False
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    assert bucket["DeletionPolicy"] == "Delete"
    assert "VersioningConfiguration" not in bucket["Properties"]  # no old versions to keep the bucket from going


def test_the_deployment_function_writes_only_to_its_own_log_group() -> None:
    _, _, template, _ = hosted()
    (function,) = resources(template, "AWS::Lambda::Function").values()
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in resources(template, "AWS::IAM::Role")[role_id]["Properties"]
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources(template, "AWS::Logs::LogGroup")[log_group_id]["Properties"]["RetentionInDays"] == 30
    (policy,) = resources(template, "AWS::IAM::Policy").values()
    logs = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "logs:PutLogEvents" in s["Action"]]
    assert logs == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
        }
    ]


def test_a_custom_domain_serves_tls_1_2_or_later_with_its_certificate_and_is_the_boards_url() -> None:
    _, hosting, template, _ = hosted(custom_domain=True)
    config = distribution(template)
    assert config["Aliases"] == [DOMAIN]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERTIFICATE,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert config["WebACLId"] == WEB_ACL
    assert hosting.url == f"https://{DOMAIN}/"


def test_a_custom_domain_needs_its_certificate() -> None:
    stack = cdk.Stack(cdk.App(), "Incomplete")
    with pytest.raises(ValueError, match="both domain_name and certificate_arn"):
        WallboardHosting(stack, "Hosting", site_dir=SITE, domain_name=DOMAIN)


@pytest.mark.parametrize("custom_domain", [False, True], ids=["cloudfront address", "custom domain and web ACL"])
def test_cdk_nag_finds_nothing_unsuppressed_and_every_suppression_silences_a_finding(custom_domain: bool) -> None:
    stack, _, template, _ = hosted(custom_domain)
    report = nag_report(stack)
    firing = [
        (row["Rule ID"], row["Resource ID"]) for row in report if row["Compliance"] not in ("Compliant", "Suppressed")
    ]
    assert firing == []
    suppressed = [row for row in report if row["Compliance"] == "Suppressed"]
    unused = [
        (path, rule_id, entry)
        for path, rule_id, entry, reason in suppressions(template)
        if not any(
            row["Resource ID"] == path and row["Rule ID"] == rule_id and matches(entry, reason, row["Exception Reason"])
            for row in suppressed
        )
    ]
    assert unused == []
    # With a custom domain and a web ACL, TLS and WAF are no longer findings to explain away.
    rules = {row["Rule ID"] for row in suppressed if "Distribution" in row["Resource ID"]}
    assert ({"AwsSolutions-CFR2", "AwsSolutions-CFR4"} <= rules) is not custom_domain


class _InlineCode(HTMLParser):
    """What a CSP without 'unsafe-inline' blocks in a page: inline scripts and styles, style attributes, event
    handler attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "style" or (tag == "script" and "src" not in named):
            self._in = tag
        for name, value in attrs:
            if name == "style" or name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=...>")

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.found.append(f"inline <{self._in}>")

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def test_the_client_has_no_inline_script_or_style_the_policy_would_block() -> None:
    for page in SITE.glob("*.html"):
        parser = _InlineCode()
        parser.feed(page.read_text())
        assert parser.found == [], page.name
    for markup in re.findall(r"innerHTML\s*=\s*(['\"`])(.*?)\1", (SITE / "app.js").read_text(), re.DOTALL):
        parser = _InlineCode()
        parser.feed(markup[1])
        assert parser.found == [], markup[1]
    scripts = "\n".join(p.read_text() for p in SITE.glob("*.js"))
    # script-src without 'unsafe-eval'; style-src without 'unsafe-inline' blocks a style attribute set as markup.
    assert not re.search(r"\beval\(|new Function\(", scripts)
    assert not re.search(r"setAttribute\(\s*['\"]style['\"]", scripts)


def test_the_stack_serves_the_board_from_its_distribution_with_a_config_naming_its_own_endpoints() -> None:
    stack, template = synth()
    url = template.to_json()["Outputs"]["WallboardUrl"]["Value"]
    assert url == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id(template), "DomainName"]}, "/"]]}
    (text,) = [path.read_text() for key, path in deployed_files(stack, template) if key == "config.json"]
    for marker, value in next(m for m in deployment(template)["SourceMarkers"] if m).items():
        text = text.replace(marker, rendered(value))
    config = json.loads(text)
    outputs = {name: rendered(output["Value"]) for name, output in template.to_json()["Outputs"].items()}
    assert config["snapshotUrl"] == outputs["WallboardSnapshotUrl"]
    assert config["httpHost"] == outputs["WallboardEventApiHttpDns"]
    assert config["realtimeUrl"] == f"wss://{outputs['WallboardEventApiRealtimeDns']}/event/realtime"
    auth = config["auth"]
    assert auth["type"] == "cognito"
    assert auth["redirectUri"] == outputs["WallboardUrl"]
    assert auth["domain"] == outputs["WallboardSignInDomain"]
    assert auth["clientId"] == outputs["WallboardUserPoolClientId"]
    assert auth["userPoolId"] == outputs["WallboardUserPoolId"]
    # The CSP's endpoints are the stack's Region's.
    assert f"https://*.appsync-api.{stack.region}.amazonaws.com" in csp_directives(template)["connect-src"]


def test_without_the_hosted_board_nothing_is_hosted() -> None:
    _, template = synth(**{"wallboard.hosted": False})
    assert resources(template, "AWS::CloudFront::Distribution") == {}
    assert resources(template, "Custom::CDKBucketDeployment") == {}
    assert "WallboardUrl" not in template.to_json()["Outputs"]
