"""Who may open the wallboard: one Cognito user pool, its hosted sign-in pages, and the board's public app client.

No self sign-up: an administrator creates each supervisor (or federates the identity provider the contact centre
already uses, `wallboard.identityProvider`) and puts them in groups, which decide the channels they may see
(`wallboard-all`; `queue-<queueId>`; `agents-<hierarchyGroupId>`: README "Wallboard in AWS"). A group change takes
effect at the next token refresh (at most an hour: the tokens' validity), with no redeploy. The stack creates only
`wallboard-all`; the per-queue and per-agent-group ones are the administrator's, named after ids this stack cannot
know.

The client is a browser app: authorization code with PKCE, no secret (a secret in a static site is no secret), and
its only callback and sign-out URL is the wallboard's own.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_cognito as cognito
from cdk_nag import NagSuppressions
from constructs import Construct

from stacks.config import WallboardIdentityProvider

# The group that sees every queue and every agent (the scope rule: lambdas/connect_state/domain/board_scope.py).
ALL_GROUP = "wallboard-all"
# An hour: how long a group change waits for a signed-in board (the ID and access tokens carry `cognito:groups`).
TOKEN_VALIDITY = Duration.hours(1)
# A supervisor signs in once per shift; a board left open past this signs in again.
REFRESH_TOKEN_VALIDITY = Duration.hours(12)
SCOPES = (cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE)


class WallboardSignIn(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        board_url: str,
        identity_provider: WallboardIdentityProvider | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            sign_in_case_sensitive=False,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            # The board shows who is working and on what: a password alone is not enough. An authenticator app
            # (TOTP), not SMS: no SMS role, spend or SIM-swap exposure. Sign-in happens once per shift (the refresh
            # token's 12 h), so a wall screen is signed in by a supervisor with their app. Federated users get their
            # own identity provider's MFA instead.
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            # Users, their groups and their MFA devices outlive a stack that is deleted or renamed (README "Deploy").
            removal_policy=RemovalPolicy.RETAIN,
            deletion_protection=True,
        )
        plus_plan = (
            "needs the Plus feature plan, priced per monthly active user, for a pool whose users an administrator "
            "creates (no self sign-up), with a 12-character password policy and required TOTP MFA; the Essentials "
            "plan has the hosted sign-in pages and federation the board needs. A centre that wants compromised-"
            "credential and adaptive-authentication checks switches the pool to Plus (README 'Wallboard in AWS')."
        )
        NagSuppressions.add_resource_suppressions(
            self.user_pool,
            [{"id": "AwsSolutions-COG8", "reason": f"Threat protection (sign-in risk, leaked passwords) {plus_plan}"}],
        )
        cognito.CfnUserPoolGroup(
            self,
            "AllGroup",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=ALL_GROUP,
            description="Sees every queue and every agent on the wallboard.",
        )

        # The hosted sign-in pages. A prefix is unique per Region across all of AWS, and may not contain "aws",
        # "amazon" or "cognito": the stack's name and the account make it unique and stable across deployments.
        stack = Stack.of(self)
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"{stack.stack_name.lower()}-{Aws.ACCOUNT_ID}"),
        )

        providers = [cognito.UserPoolClientIdentityProvider.COGNITO]
        federated = None
        if identity_provider is not None:
            federated = self._identity_provider(identity_provider)
            # By its configured name: the provider's attribute would be a token, unknown to a reader of the template.
            providers.append(cognito.UserPoolClientIdentityProvider.custom(identity_provider.name))
        self.client = self.user_pool.add_client(
            "BoardClient",
            generate_secret=False,
            # The hosted UI signs users in; the client itself only refreshes tokens (no password flows).
            auth_flows=cognito.AuthFlow(user=False, user_password=False, user_srp=False, admin_user_password=False),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                scopes=list(SCOPES),
                callback_urls=[board_url],
                logout_urls=[board_url],
            ),
            supported_identity_providers=providers,
            id_token_validity=TOKEN_VALIDITY,
            access_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
        )
        if federated is not None:
            # The client names the provider: it must exist first.
            self.client.node.add_dependency(federated)
        self.sign_in_url = self.domain.base_url()
        # What a JWT authorizer checks a token's `iss` against.
        self.issuer = f"https://cognito-idp.{Aws.REGION}.amazonaws.com/{self.user_pool.user_pool_id}"

    def _identity_provider(self, settings: WallboardIdentityProvider) -> cognito.UserPoolIdentityProviderBase:
        """The federation: its users sign in on their own provider and land in this pool with their email."""
        mapping = cognito.AttributeMapping(email=cognito.ProviderAttribute.other("email"))
        if settings.type == "SAML":
            assert settings.metadata_url is not None  # validated at synth (stacks/config.py)
            return cognito.UserPoolIdentityProviderSaml(
                self,
                "Saml",
                user_pool=self.user_pool,
                name=settings.name,
                metadata=cognito.UserPoolIdentityProviderSamlMetadata.url(settings.metadata_url),
                attribute_mapping=cognito.AttributeMapping(
                    email=cognito.ProviderAttribute.other(
                        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
                    )
                ),
            )
        # Validated at synth (stacks/config.py): an OIDC provider has all three.
        assert settings.issuer is not None
        assert settings.client_id is not None
        assert settings.client_secret_arn is not None
        return cognito.UserPoolIdentityProviderOidc(
            self,
            "Oidc",
            user_pool=self.user_pool,
            name=settings.name,
            issuer_url=settings.issuer,
            client_id=settings.client_id,
            # A CloudFormation dynamic reference: the secret is read at deploy, never written in the template.
            client_secret=SecretValue.secrets_manager(settings.client_secret_arn).unsafe_unwrap(),
            scopes=["openid", "email", "profile"],
            attribute_mapping=mapping,
        )
