"""The wallboard's static files in a private S3 bucket behind CloudFront, with its `config.json` written at deploy.

Nobody reads the bucket but the distribution (origin access control: CloudFront signs its requests, and the bucket
policy lets only this distribution's service principal get objects); viewers reach it over HTTPS only, with security
headers on every response. The Content-Security-Policy lets the page talk only to its own origin and to the Region's
AppSync Events, API Gateway and Cognito endpoints, and be framed only by itself and the Amazon Connect agent workspace
(frame-ancestors: X-Frame-Options would forbid that embedding, so none is sent).

The endpoints are allowed by their Region's wildcard, not by the exact hosts: the snapshot API's CORS origin and the
app client's callback URL are this distribution's address, so naming their hosts in the distribution's headers would
make each depend on the other (a CloudFormation cycle).

Encryption: S3-managed keys, even with kmsKeyArn. CloudFront's origin access control reads SSE-KMS objects only if
the key policy lets cloudfront.amazonaws.com decrypt for this distribution, and the kmsKeyArn key is imported (its
policy is the operator's, not the stack's to edit). The objects are the page's code and endpoints, which every
viewer receives anyway: no data of the contact centre is stored here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import NagSuppressions
from constructs import Construct

# Where Amazon Connect serves the agent workspace: `<alias>.my.connect.aws`, and `<alias>.awsapps.com/connect` for
# instances created before the my.connect.aws domain. The alias is not in the instance ARN, so the domain's wildcard.
CONNECT_AGENT_WORKSPACE_ORIGINS = ("https://*.my.connect.aws", "https://*.awsapps.com")
# Files of the client's directory that are not the client (the demo's server serves its own config.json).
NOT_THE_SITE = ["**/__pycache__", "**/*.pyc", "**/.*", "**/*.md", "**/*.py", "config.json"]
CONFIG_OBJECT = "config.json"


def content_security_policy(region: str) -> str:
    """The page's policy: its own files only, no inline script or style, connections to the Region's services."""
    connect_src = [
        "'self'",
        f"https://*.appsync-api.{region}.amazonaws.com",  # AppSync Events: HTTP (publish, the auth host)
        f"wss://*.appsync-realtime-api.{region}.amazonaws.com",  # AppSync Events: the subscription WebSocket
        f"https://*.execute-api.{region}.amazonaws.com",  # the snapshot API
        f"https://*.auth.{region}.amazoncognito.com",  # the user pool's domain: token exchange and refresh
        f"https://cognito-idp.{region}.amazonaws.com",  # the user pool's API
    ]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": connect_src,
        "frame-ancestors": ["'self'", *CONNECT_AGENT_WORKSPACE_ORIGINS],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class WallboardHosting(Construct):
    """The bucket, the distribution and (with `publish_site`) the deployment of the client and its config.json.

    `url` is what a supervisor opens, the Cognito app client's callback and sign-out URL, and the snapshot API's CORS
    origin: `https://<domain_name>/` with a custom domain, else `https://<distribution domain>/`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        site_dir: Path,
        log_encryption_key: kms.IKey | None = None,
        domain_name: str | None = None,
        certificate_arn: str | None = None,
        web_acl_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if (domain_name is None) != (certificate_arn is None):
            raise ValueError("a custom domain needs both domain_name and certificate_arn (ACM, us-east-1)")
        self.site_dir = site_dir
        self._log_encryption_key = log_encryption_key
        self.bucket = s3.Bucket(
            self,
            "Site",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            # Unversioned: every object is rebuilt from the repository at each deploy, so old versions would only
            # cost storage and keep the bucket from being deleted.
            versioned=False,
            # Only the client's files: deleting the stack deletes them (the deployment empties the bucket first).
            removal_policy=RemovalPolicy.DESTROY,
        )
        NagSuppressions.add_resource_suppressions(
            self.bucket,
            [
                {
                    "id": "AwsSolutions-S1",
                    "reason": "Only the wallboard's CloudFront distribution reads this bucket (origin access control) "
                    "and only the deployment writes to it: its access logs would list CloudFront's cache fills of "
                    "the same few static files. The requests that matter (snapshots, subscriptions) are authorised "
                    "and logged by the snapshot API and AppSync.",
                }
            ],
        )

        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Wallboard: HSTS, CSP (frame-ancestors: the Connect agent workspace), nosniff, referrer policy",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(Stack.of(self).region), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
            ),
        )
        custom_domain: dict[str, Any] = {}
        if domain_name is not None and certificate_arn is not None:
            custom_domain = {
                "domain_names": [domain_name],
                "certificate": acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn),
                "minimum_protocol_version": cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            }
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="connect-realtime-state wallboard",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # North America and Europe's edge locations: a contact centre's supervisors are few and in a few places;
            # elsewhere the page still loads, from a farther edge.
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            web_acl_id=web_acl_arn,
            **custom_domain,
        )
        self.url = f"https://{domain_name or self.distribution.distribution_domain_name}/"
        self._suppress_distribution_findings(custom_domain=bool(custom_domain), web_acl=web_acl_arn is not None)

    def _suppress_distribution_findings(self, *, custom_domain: bool, web_acl: bool) -> None:
        suppressions = [
            {
                "id": "AwsSolutions-CFR1",
                "reason": "No geo restriction: supervisors sign in from wherever they work (sites, home, outsourcers "
                "abroad); sign-in decides who sees the board, and the page itself holds no data.",
            },
            {
                "id": "AwsSolutions-CFR3",
                "reason": "No CloudFront access logs: the distribution serves the same static files to everyone. Every "
                "request for data is authorised and logged where it is answered (the snapshot API's access log, "
                "AppSync Events, Cognito's sign-ins in CloudTrail).",
            },
        ]
        if not web_acl:
            suppressions.append(
                {
                    "id": "AwsSolutions-CFR2",
                    "reason": "No WAF web ACL by default: a CloudFront web ACL lives in us-east-1 (another stack) and "
                    "bills monthly per ACL and rule, for a site of static files whose data is behind sign-in. Set "
                    "wallboard.webAclArn to attach one (README 'Wallboard in AWS').",
                }
            )
        if not custom_domain:
            suppressions.append(
                {
                    "id": "AwsSolutions-CFR4",
                    "reason": "The *.cloudfront.net address uses CloudFront's default certificate, whose security "
                    "policy CloudFront fixes at TLSv1; browsers negotiate TLS 1.2 or 1.3 with it. A custom domain "
                    "(wallboard.domainName and wallboard.certificateArn) sets TLSv1.2_2021 "
                    "(README 'Wallboard in AWS').",
                }
            )
        NagSuppressions.add_resource_suppressions(self.distribution, suppressions)

    def publish_site(self, config: Mapping[str, Any]) -> s3deploy.BucketDeployment:
        """Upload the client's files and `config.json` (`config` with its tokens resolved at deploy), then invalidate
        the distribution's cache so that the new files are served at once."""
        log_group = logs.LogGroup(
            self,
            "DeploymentLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=self._log_encryption_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # A role of our own (BucketDeployment's default carries AWSLambdaBasicExecutionRole: any log group).
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The wallboard's site deployment: copies the client into its bucket, invalidates CloudFront",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(self.site_dir), exclude=NOT_THE_SITE),
                s3deploy.Source.json_data(CONFIG_OBJECT, dict(config)),
            ],
            # Browsers revalidate every load (a 304 from the edge when nothing changed); the edge keeps the files
            # until the next deployment invalidates them. No build step names files by content hash, so this is what
            # keeps a new app.js from meeting an old index.html or config.json.
            cache_control=[
                s3deploy.CacheControl.max_age(Duration.seconds(0)),
                s3deploy.CacheControl.s_max_age(Duration.days(365)),
            ],
            distribution=self.distribution,
            # Every file (one wildcard path is one invalidation path; the first 1,000 paths a month are free).
            distribution_paths=["/*"],
            # Deleting the stack deletes the files, so that the bucket (DESTROY) can be deleted too.
            retain_on_delete=False,
            role=role,
            log_group=log_group,
        )
        self._suppress_deployment_findings(deployment, role)
        return deployment

    def _suppress_deployment_findings(self, deployment: s3deploy.BucketDeployment, role: iam.Role) -> None:
        """The CDK's deployment function is shared by every BucketDeployment of the stack (a singleton at the
        stack's root): its runtime and its grants are the CDK's."""
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment") and isinstance(child, lambda_.Function):
                NagSuppressions.add_resource_suppressions(
                    child,
                    [
                        {
                            "id": "AwsSolutions-L1",
                            "reason": "The CDK's BucketDeployment function: its runtime is the one aws-cdk-lib ships "
                            "and tests it with, and it runs only during deployments.",
                        }
                    ],
                )
        # cdk-nag names the bucket by its logical id, as in the template.
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        bucket_id = stack.resolve(cfn_bucket.logical_id)
        NagSuppressions.add_resource_suppressions(
            role.node.find_child("DefaultPolicy"),
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "The CDK's BucketDeployment grants, which it adds to the role itself: read the "
                    "deployment's asset objects (named by content hash in the bootstrap bucket), read, write and "
                    "delete the objects of the wallboard's own bucket (the client's files, pruned and replaced at each "
                    "deploy), and create and read CloudFront invalidations, which it grants on every distribution "
                    "(an invalidation only empties a cache).",
                    "appliesTo": [
                        "Action::s3:GetObject*",
                        "Action::s3:GetBucket*",
                        "Action::s3:List*",
                        "Action::s3:DeleteObject*",
                        "Action::s3:Abort*",
                        {"regex": "/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):s3:::cdk-[a-z0-9]+-assets-.*\\/\\*$/"},
                        f"Resource::<{bucket_id}.Arn>/*",
                        "Resource::*",
                    ],
                },
            ],
        )
