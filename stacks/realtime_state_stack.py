"""The one stack: small constructs, one per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs.agent_event_consumer import AgentEventConsumer
from stacks.constructs.contact_enrichment import ContactEnrichment
from stacks.constructs.contact_event_consumer import ContactEventConsumer
from stacks.constructs.lambda_runtime import LambdaRuntime
from stacks.constructs.monitoring import Monitoring
from stacks.constructs.state_tables import StateTables


class RealtimeStateStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = kms.Key.from_key_arn(self, "CustomerKey", config.kms_key_arn) if config.kms_key_arn else None
        runtime = LambdaRuntime(self, "Runtime", config=config)
        tables = StateTables(self, "State", encryption_key=key)
        agents = AgentEventConsumer(
            self, "AgentEvents", config=config, runtime=runtime, agent_table=tables.agent_table, encryption_key=key
        )

        CfnOutput(self, "AgentStateTableName", value=tables.agent_table.table_name)
        CfnOutput(self, "AgentEventStreamArn", value=agents.stream.stream_arn)
        CfnOutput(self, "AgentEventsQuarantineQueueUrl", value=agents.quarantine_queue.queue_url)
        CfnOutput(self, "AgentEventsOnFailureQueueUrl", value=agents.on_failure_queue.queue_url)

        contacts = ContactEventConsumer(
            self,
            "ContactEvents",
            config=config,
            runtime=runtime,
            contact_table=tables.contact_table,
            encryption_key=key,
        )
        CfnOutput(self, "ContactStateTableName", value=tables.contact_table.table_name)
        CfnOutput(self, "ContactAbandonedEventBusName", value=contacts.event_bus.event_bus_name)
        CfnOutput(self, "ContactEventsQuarantineQueueUrl", value=contacts.quarantine_queue.queue_url)
        CfnOutput(self, "ContactEventsDeadLetterQueueUrl", value=contacts.buffer_dead_letter_queue.queue_url)
        CfnOutput(self, "ContactEventRuleDeadLetterQueueUrl", value=contacts.rule_dead_letter_queue.queue_url)
        CfnOutput(self, "ContactEventRuleArn", value=contacts.rule.rule_arn)
        if contacts.archive is not None:
            CfnOutput(self, "ContactEventArchiveArn", value=contacts.archive.archive_arn)

        functions = [agents.function, contacts.function]
        must_stay_empty = {
            "AgentEventsQuarantine": agents.quarantine_queue,
            "AgentEventsOnFailure": agents.on_failure_queue,
            "ContactEventsQuarantine": contacts.quarantine_queue,
            "ContactEventsDeadLetter": contacts.buffer_dead_letter_queue,
            "ContactEventRuleDeadLetter": contacts.rule_dead_letter_queue,
        }
        backlogs = {}
        if config.enrichment.enabled:
            enrichment = ContactEnrichment(
                self,
                "ContactEnrichment",
                config=config,
                runtime=runtime,
                contact_table=tables.contact_table,
                rule_dead_letter_queue=contacts.rule_dead_letter_queue,
                encryption_key=key,
            )
            functions.append(enrichment.function)
            must_stay_empty["ContactEnrichmentDeadLetter"] = enrichment.dead_letter_queue
            # The delay queue's messages are that old before anyone may read them.
            delay_seconds = config.enrichment.disconnected_delay_minutes * 60
            backlogs["EnrichmentCompletedBacklog"] = (enrichment.completed_queue, 0)
            backlogs["EnrichmentDisconnectedBacklog"] = (enrichment.disconnected_queue, delay_seconds)
            CfnOutput(self, "ContactEnrichmentDeadLetterQueueUrl", value=enrichment.dead_letter_queue.queue_url)
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
            stream_consumer=agents.function,
            queues_that_must_stay_empty=must_stay_empty,
            backlogs=backlogs,
            lag_metrics=["AgentEventLagSeconds", "ContactEventLagSeconds"],
        )
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=monitoring.dashboard.dashboard_name)
