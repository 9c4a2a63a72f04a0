"""Every metric the functions emit (Powertools EMF) is named here, and nowhere else.

The handlers emit these names and the stack's dashboard and alarms graph them (stacks/constructs/monitoring.py), so
neither can forget or misspell one: tests/infrastructure/test_metric_names.py checks both ways. Standard library only:
the CDK app imports this module too.
"""

from __future__ import annotations

from enum import StrEnum


class MetricName(StrEnum):
    # Agent events function
    AGENT_EVENTS_APPLIED = "AgentEventsApplied"
    AGENT_EVENTS_STALE_SKIPPED = "AgentEventsStaleSkipped"
    AGENT_EVENTS_DUPLICATE = "AgentEventsDuplicate"
    AGENT_EVENTS_QUARANTINED = "AgentEventsQuarantined"
    FOREIGN_RECORDS_SKIPPED = "ForeignRecordsSkipped"
    AGENT_EVENTS_RETRIED = "AgentEventsRetried"
    AGENT_EVENT_LAG_SECONDS = "AgentEventLagSeconds"
    # Contact events function
    CONTACT_EVENTS_APPLIED = "ContactEventsApplied"
    CONTACT_EVENTS_STALE_SKIPPED = "ContactEventsStaleSkipped"
    CONTACT_EVENTS_DUPLICATE = "ContactEventsDuplicate"
    CONTACT_EVENTS_QUARANTINED = "ContactEventsQuarantined"
    # `Contact Abandoned` events published (announcements), not contacts abandoned.
    CONTACT_ABANDONED_PUBLISHED = "ContactAbandonedPublished"
    CONTACT_EVENTS_UNKNOWN_TYPE = "ContactEventsUnknownType"
    CONTACT_EVENTS_RETRIED = "ContactEventsRetried"
    CONTACT_EVENT_LAG_SECONDS = "ContactEventLagSeconds"
    # Enrichment function
    CONTACTS_ENRICHED = "ContactsEnriched"
    CONTACTS_ENRICHED_ACW_IN_PROGRESS = "ContactsEnrichedAcwInProgress"
    CONTACT_ENRICHMENT_NOT_FOUND = "ContactEnrichmentNotFound"
    CONTACT_ENRICHMENT_SKIPPED = "ContactEnrichmentSkipped"
    CONTACT_ENRICHMENT_SUPERSEDED = "ContactEnrichmentSuperseded"
    CONTACT_ENRICHMENT_RETRIED = "ContactEnrichmentRetried"
    CONTACT_ENRICHMENT_DEAD_LETTERED = "ContactEnrichmentDeadLettered"
    CONTACT_ENRICHMENT_POSTPONE_FAILED = "ContactEnrichmentPostponeFailed"
    DESCRIBE_CONTACT_CALLS = "DescribeContactCalls"
    DESCRIBE_CONTACT_THROTTLED = "DescribeContactThrottled"
    # Board function (the live wallboard's read model)
    BOARD_STREAM_RECORDS = "BoardStreamRecords"  # state table changes read from both streams
    BOARD_CHANNELS_RECOMPUTED = "BoardChannelsRecomputed"  # channels whose figures were recomputed (<= 1 per batch)
    BOARD_MESSAGES_PUBLISHED = "BoardMessagesPublished"  # messages sent to the channel service (0 while disabled)
    BOARD_AGENT_ROWS_WRITTEN = "BoardAgentRowsWritten"  # agent rows put or deleted (a heartbeat writes none)
    BOARD_BATCHES_RETRIED = "BoardBatchesRetried"  # batches handed back to Lambda whole (a read or publish failed)


# Every event a function read and understood, whatever it changed: the silence alarms count these.
AGENT_EVENTS_RECEIVED = (
    MetricName.AGENT_EVENTS_APPLIED,
    MetricName.AGENT_EVENTS_STALE_SKIPPED,
    MetricName.AGENT_EVENTS_DUPLICATE,
)
CONTACT_EVENTS_RECEIVED = (
    MetricName.CONTACT_EVENTS_APPLIED,
    MetricName.CONTACT_EVENTS_STALE_SKIPPED,
    MetricName.CONTACT_EVENTS_DUPLICATE,
)
