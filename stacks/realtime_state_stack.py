"""The one stack: small constructs, one per concern."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constants import AGENT_EVENTS, CONTACT_ENRICHMENT, CONTACT_EVENTS, METRIC_PERIOD, WALLBOARD
from stacks.constructs.agent_event_consumer import AgentEventConsumer
from stacks.constructs.contact_enrichment import ContactEnrichment
from stacks.constructs.contact_event_consumer import ContactEventConsumer
from stacks.constructs.lambda_runtime import LambdaRuntime
from stacks.constructs.monitoring import Monitoring
from stacks.constructs.state_read_access import StateReadAccess
from stacks.constructs.state_tables import StateTables
from stacks.constructs.wallboard_hosting import WallboardHosting
from stacks.constructs.wallboard_push import WallboardPush
from stacks.constructs.wallboard_read_model import WallboardReadModel
from stacks.constructs.wallboard_sign_in import SCOPES, WallboardSignIn

ROOT = Path(__file__).resolve().parents[1]


class RealtimeStateStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = kms.Key.from_key_arn(self, "CustomerKey", config.kms_key_arn) if config.kms_key_arn else None
        runtime = LambdaRuntime(self, "Runtime", config=config, encryption_key=key)
        tables = StateTables(
            self, "State", encryption_key=key, deletion_protection=config.state_table_deletion_protection
        )
        agents = AgentEventConsumer(self, AGENT_EVENTS, runtime=runtime, agent_table=tables.agent_table)

        CfnOutput(self, "AgentStateTableName", value=tables.agent_table.table_name)
        CfnOutput(self, "AgentEventStreamArn", value=agents.stream.stream_arn)
        # What the runbook's commands read (ops/): nobody digs names out of describe-stack-resources.
        CfnOutput(self, "AgentEventStreamName", value=agents.stream.stream_name)
        CfnOutput(self, "AgentEventsFunctionName", value=agents.function.function_name)
        CfnOutput(self, "AgentEventsQuarantineQueueUrl", value=agents.quarantine_queue.queue_url)
        CfnOutput(self, "AgentEventsFailedBatchBucketName", value=agents.failed_batch_bucket.bucket_name)

        contacts = ContactEventConsumer(self, CONTACT_EVENTS, runtime=runtime, contact_table=tables.contact_table)
        CfnOutput(self, "ContactStateTableName", value=tables.contact_table.table_name)
        read_access = StateReadAccess(
            self,
            "StateReadAccess",
            agent_table=tables.agent_table,
            contact_table=tables.contact_table,
            contact_table_index_names=tables.contact_table_index_names,
            encryption_key=key,
        )
        CfnOutput(self, "StateReadOnlyPolicyArn", value=read_access.policy.managed_policy_arn)
        CfnOutput(self, "TableContractVersion", value=tables.contract_version)
        CfnOutput(self, "ContactAbandonedEventBusName", value=contacts.event_bus.event_bus_name)
        CfnOutput(self, "ContactEventsQuarantineQueueUrl", value=contacts.quarantine_queue.queue_url)
        self._queue_outputs("ContactEventsBufferQueue", contacts.buffer_queue)
        self._queue_outputs("ContactEventsDeadLetterQueue", contacts.buffer_dead_letter_queue)
        self._queue_outputs("ContactEventRuleDeadLetterQueue", contacts.rule_dead_letter_queue)
        CfnOutput(self, "ContactEventRuleArn", value=contacts.rule.rule_arn)
        if contacts.archive is not None:
            CfnOutput(self, "ContactEventArchiveArn", value=contacts.archive.archive_arn)

        board = WallboardReadModel(
            self,
            WALLBOARD,
            runtime=runtime,
            agent_table=tables.agent_table,
            contact_table=tables.contact_table,
            contact_index_names=(tables.waiting_index_name, tables.interval_index_name),
        )
        CfnOutput(self, "BoardTableName", value=board.board_table.table_name)
        CfnOutput(self, "BoardFunctionName", value=board.function.function_name)
        self._queue_outputs("WallboardFailedBatchesQueue", board.failed_batch_queue)

        functions = [agents.function, contacts.function, board.function]
        push = self._hosted_wallboard(config, runtime, key, tables, board) if config.wallboard.hosted else None
        if push is not None:
            functions.append(push.snapshot_function)
        must_stay_empty = {
            "AgentEventsQuarantine": agents.quarantine_queue,
            "ContactEventsQuarantine": contacts.quarantine_queue,
            "ContactEventsDeadLetter": contacts.buffer_dead_letter_queue,
            "ContactEventRuleDeadLetter": contacts.rule_dead_letter_queue,
            "WallboardFailedBatches": board.failed_batch_queue,
        }
        backlogs = {}
        if config.enrichment.enabled:
            enrichment = ContactEnrichment(
                self, CONTACT_ENRICHMENT, runtime=runtime, contact_table=tables.contact_table
            )
            functions.append(enrichment.function)
            must_stay_empty["ContactEnrichmentDeadLetter"] = enrichment.dead_letter_queue
            must_stay_empty["EnrichmentCompletedRuleDeadLetter"] = enrichment.rule_dead_letter_queues["COMPLETED"]
            must_stay_empty["EnrichmentDisconnectedRuleDeadLetter"] = enrichment.rule_dead_letter_queues["DISCONNECTED"]
            # The delay queue's messages are that old before anyone may read them.
            delay_seconds = config.enrichment.disconnected_delay_minutes * 60
            backlogs["EnrichmentCompletedBacklog"] = (enrichment.completed_queue, 0)
            backlogs["EnrichmentDisconnectedBacklog"] = (enrichment.disconnected_queue, delay_seconds)
            self._queue_outputs("ContactEnrichmentDeadLetterQueue", enrichment.dead_letter_queue)
            self._queue_outputs("ContactEnrichmentCompletedQueue", enrichment.completed_queue)
            self._queue_outputs("ContactEnrichmentDisconnectedQueue", enrichment.disconnected_queue)
            for trigger, queue in enrichment.rule_dead_letter_queues.items():
                self._queue_outputs(f"ContactEnrichment{trigger.title()}RuleDeadLetterQueue", queue)
            CfnOutput(
                self,
                "ContactEnrichmentRuleArns",
                value=",".join(rule.rule_arn for rule in enrichment.rules.values()),
            )

        monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            encryption_key=key,
            functions=functions,
            stream_consumers={
                "AgentStream": (agents.function, "the agent event stream"),
                "WallboardStreams": (board.function, "the state tables' streams"),
            },
            queues_that_must_stay_empty=must_stay_empty,
            backlogs=backlogs,
            failed_batch_records=agents.records_given_up(METRIC_PERIOD),
            board_publish_errors=push.publish_errors() if push else None,
            board_snapshot_errors=push.snapshot_errors() if push else None,
        )
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=monitoring.dashboard.dashboard_name)

    def _hosted_wallboard(
        self,
        config: DeploymentConfig,
        runtime: LambdaRuntime,
        key: kms.IKey | None,
        tables: StateTables,
        board: WallboardReadModel,
    ) -> WallboardPush:
        """The board in AWS (`wallboard.hosted`): the site, sign-in, the push and the snapshot API, then the site's
        config.json naming them. In this order there is no cycle: the distribution's headers name the Region's
        endpoints by wildcard, so the app client (callback) and the snapshot API (CORS) can name the distribution."""
        settings = config.wallboard
        hosting = WallboardHosting(
            self,
            "WallboardHosting",
            site_dir=ROOT / "wallboard",
            log_encryption_key=key,
            domain_name=settings.domain_name,
            certificate_arn=settings.certificate_arn,
            web_acl_arn=settings.web_acl_arn,
        )
        sign_in = WallboardSignIn(
            self, "WallboardSignIn", board_url=hosting.url, identity_provider=settings.identity_provider
        )
        push = WallboardPush(
            self,
            "WallboardPush",
            runtime=runtime,
            user_pool=sign_in.user_pool,
            client=sign_in.client,
            issuer=sign_in.issuer,
            # An origin has no path: the URL without its closing slash.
            board_origin=hosting.url.removesuffix("/"),
            agent_table=tables.agent_table,
            contact_table=tables.contact_table,
            contact_index_names=(tables.waiting_index_name, tables.interval_index_name),
            board_table=board.board_table,
        )
        board.publish_to(push.publish_url, push.namespace)
        hosting.publish_site(
            {
                "realtimeUrl": push.realtime_url,
                "httpHost": push.event_api.http_dns,
                "snapshotUrl": push.snapshot_url,
                "auth": {
                    "type": "cognito",
                    "domain": sign_in.sign_in_url,
                    "clientId": sign_in.client.user_pool_client_id,
                    "redirectUri": hosting.url,
                    "region": Aws.REGION,
                    "userPoolId": sign_in.user_pool.user_pool_id,
                    "scope": " ".join(scope.scope_name for scope in SCOPES),
                },
                "clockRate": 1,
            }
        )
        CfnOutput(self, "WallboardUrl", value=hosting.url)
        CfnOutput(self, "WallboardUserPoolId", value=sign_in.user_pool.user_pool_id)
        CfnOutput(self, "WallboardUserPoolClientId", value=sign_in.client.user_pool_client_id)
        CfnOutput(self, "WallboardSignInDomain", value=sign_in.sign_in_url)
        CfnOutput(self, "WallboardEventApiHttpDns", value=push.event_api.http_dns)
        CfnOutput(self, "WallboardEventApiRealtimeDns", value=push.event_api.realtime_dns)
        CfnOutput(self, "WallboardSnapshotUrl", value=push.snapshot_url)
        return push

    def _queue_outputs(self, name: str, queue: sqs.IQueue) -> None:
        """A queue's URL (SQS's API and the tools) and ARN (start-message-move-task, IAM)."""
        CfnOutput(self, f"{name}Url", value=queue.queue_url)
        CfnOutput(self, f"{name}Arn", value=queue.queue_arn)
