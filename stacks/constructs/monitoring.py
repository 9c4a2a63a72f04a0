"""Alarms to an SNS topic and one dashboard: is the pipeline healthy and current? (README "Operations")."""

from __future__ import annotations

import math
from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from connect_state.metric_names import AGENT_EVENTS_RECEIVED, CONTACT_EVENTS_RECEIVED, MetricName
from stacks.config import DeploymentConfig
from stacks.constants import METRIC_PERIOD as PERIOD
from stacks.constants import METRICS_NAMESPACE, SERVICE_NAME
from stacks.opening_hours import OpeningWindow, is_open

# Silence is judged per five minutes: Connect publishes an agent event for each logged-in agent at least every 120 s
# (HEART_BEAT when nothing else happens), so any five minutes with an agent logged in hold at least two of them.
SILENCE_PERIOD = Duration.minutes(5)
LAG_METRICS = (MetricName.AGENT_EVENT_LAG_SECONDS, MetricName.CONTACT_EVENT_LAG_SECONDS)


def pipeline_metric(name: MetricName, statistic: str = "Sum", period: Duration = PERIOD) -> cloudwatch.Metric:
    """A Powertools (EMF) metric of the functions: one namespace, the `service` dimension only."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE_NAME},
        statistic=statistic,
        period=period,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        encryption_key: kms.IKey | None,
        functions: Sequence[lambda_.Function],
        stream_consumers: dict[str, tuple[lambda_.Function, str]],
        queues_that_must_stay_empty: dict[str, sqs.IQueue],
        backlogs: dict[str, tuple[sqs.IQueue, int]] | None = None,
        failed_batch_records: cloudwatch.IMetric | None = None,
        board_publish_errors: cloudwatch.IMetric | None = None,
        board_snapshot_errors: cloudwatch.IMetric | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.alarms
        self._stack_name = Stack.of(self).stack_name
        self.topic = self._topic(config, encryption_key)
        if settings.email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.email))
        self.alarms: list[cloudwatch.Alarm] = []

        # A stream consumer falling behind: the state (agent stream) or the wallboard (the state tables' streams)
        # is getting old. Lambda publishes IteratorAge per function: the worst of its mappings.
        iterator_ages: list[cloudwatch.IMetric] = []
        for name, (consumer, behind_what) in stream_consumers.items():
            iterator_age = cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="IteratorAge",
                dimensions_map={"FunctionName": consumer.function_name},
                statistic="Maximum",
                period=PERIOD,
            )
            iterator_ages.append(iterator_age.with_(label=f"{name} iterator age (ms)"))
            self._alarm(
                f"{name}IteratorAge",
                iterator_age,
                threshold=settings.iterator_age_seconds * 1000,
                description=f"The {consumer.node.scope.node.id if consumer.node.scope else name} function is more "
                f"than {settings.iterator_age_seconds} s behind {behind_what}.",
            )
        if failed_batch_records is not None:
            # Agent event records Lambda gave up on after the retries (in the failed-batch bucket, or dropped).
            self._alarm(
                "AgentEventsFailedBatches",
                failed_batch_records,
                threshold=0,
                description="Agent event records were given up on after the retries: see the runbook in the README.",
            )
        # The board function hands a batch back whole when a read or a publish failed; Lambda retries it. One retry
        # is a passing throttle; retries in three minutes running are a board that has stopped moving.
        self._alarm(
            "WallboardBatchesRetried",
            pipeline_metric(MetricName.BOARD_BATCHES_RETRIED),
            threshold=0,
            periods=3,
            description="The board function retried batches for 3 minutes running (a read or a publish keeps "
            "failing): the wallboards stop moving. See the runbook in the README.",
        )
        if board_publish_errors is not None:
            self._alarm(
                "WallboardPublishErrors",
                board_publish_errors,
                threshold=0,
                description="AWS AppSync Events refused or failed the board function's publishes (4XX: signature, "
                "permission, throttling; 5XX: the service): the wallboards miss pushes until the next snapshot.",
            )
        if board_snapshot_errors is not None:
            self._alarm(
                "WallboardSnapshotApiErrors",
                board_snapshot_errors,
                threshold=0,
                description="The wallboard's snapshot API answered 5xx: boards that (re)connect get no figures.",
            )
        for name, queue in queues_that_must_stay_empty.items():
            self._alarm(
                f"{name}NotEmpty",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=0,
                description=f"{name} has messages: see the runbook in the README.",
            )
        # Work queues whose oldest message is too old: enrichment is falling behind (throttling, errors, or more
        # contacts than the configured rate allows). `floor` is how old a message is before it may be read at all.
        for name, (queue, floor) in (backlogs or {}).items():
            self._alarm(
                name,
                queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                threshold=floor + settings.enrichment_backlog_age_seconds,
                description=f"{name}: the oldest message waits over {settings.enrichment_backlog_age_seconds} s.",
            )
        for function in functions:
            # The consumer construct's id (AgentEvents, ContactEvents): the function itself is just "Function".
            name = function.node.scope.node.id if function.node.scope else function.node.id
            self._alarm(
                f"{name}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=settings.function_errors,
                description=f"The {name} function raised more than {settings.function_errors} errors in a minute.",
            )
            self._alarm(
                f"{name}Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=settings.function_throttles,
                description=f"The {name} function was throttled more than {settings.function_throttles} times in a "
                "minute.",
            )
        for metric_name in LAG_METRICS:
            self._alarm(
                metric_name.removesuffix("Seconds"),
                pipeline_metric(metric_name, "Maximum"),
                threshold=settings.end_to_end_lag_seconds,
                description=f"Events reach the state over {settings.end_to_end_lag_seconds} s after they happened.",
            )
        if settings.opening_hours_utc:
            self._silence_alarms(
                settings.opening_hours_utc,
                agent_minutes=settings.agent_events_silent_minutes,
                contact_minutes=settings.contact_events_silent_minutes,
            )

        self.dashboard = self._dashboard(config, functions, iterator_ages, queues_that_must_stay_empty, backlogs or {})
        hosted_board = [
            metric.with_(label=label) if isinstance(metric, cloudwatch.Metric) else metric
            for metric, label in (
                (board_publish_errors, "Publishes refused or failed"),
                (board_snapshot_errors, "Snapshot API 5xx"),
            )
            if metric is not None
        ]
        if hosted_board:
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(title="Wallboard in AWS: push and snapshot errors", left=hosted_board, width=12)
            )

    def _topic(self, config: DeploymentConfig, encryption_key: kms.IKey | None) -> sns.ITopic:
        """The user's own topic (its policy is theirs: README), or a topic that lets only this account's alarms
        publish, over TLS. A topic policy replaces SNS's default one, so CloudWatch must be allowed explicitly."""
        if config.alarms.topic_arn:
            return sns.Topic.from_topic_arn(self, "AlarmTopic", config.alarms.topic_arn)
        topic = sns.Topic(self, "AlarmTopic", master_key=encryption_key, enforce_ssl=True)
        stack = Stack.of(self)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        return topic

    def _silence_alarms(
        self, opening_hours: tuple[OpeningWindow, ...], *, agent_minutes: int, contact_minutes: int
    ) -> None:
        """No events while the centre is open means Connect stopped streaming or the pipeline broke (README
        "Operations"). Datapoints outside the opening hours are replaced by 1, which never alarms."""
        agents = received("agents", AGENT_EVENTS_RECEIVED)
        contacts = received("contacts", CONTACT_EVENTS_RECEIVED)
        open_now = is_open(opening_hours, "agents")
        self._silence_alarm(
            "AgentEventsSilent",
            f"IF({open_now}, agents, 1)",
            {"agents": agents},
            label="Agent events while open (1 when closed)",
            minutes=agent_minutes,
            description=f"No agent event for {agent_minutes} minutes during opening hours: Amazon Connect stopped "
            "streaming agent events, or the agent pipeline is broken. See the README.",
        )
        self._silence_alarm(
            "ContactEventsSilent",
            # Agent events (heartbeats) in the same five minutes: agents are logged in, so contacts are expected.
            f"IF({open_now} AND (agents > 0), contacts, 1)",
            {"agents": agents, "contacts": contacts},
            label="Contact events while open and agents logged in (1 otherwise)",
            minutes=contact_minutes,
            description=f"No contact event for {contact_minutes} minutes while agents were logged in during opening "
            "hours: contact events stopped reaching the state. See the README.",
        )

    def _silence_alarm(
        self,
        name: str,
        expression: str,
        using_metrics: dict[str, cloudwatch.IMetric],
        *,
        label: str,
        minutes: int,
        description: str,
    ) -> None:
        """Alarms when `expression` is 0 in every five minutes of `minutes` (rounded up to whole periods); no data
        at all is silence too."""
        self._alarm(
            name,
            cloudwatch.MathExpression(
                expression=expression, using_metrics=using_metrics, period=SILENCE_PERIOD, label=label
            ),
            threshold=0,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
            periods=math.ceil(minutes / SILENCE_PERIOD.to_minutes()),
            missing_data=cloudwatch.TreatMissingData.BREACHING,
            description=description,
        )

    def _dashboard(
        self,
        config: DeploymentConfig,
        functions: Sequence[lambda_.Function],
        iterator_ages: Sequence[cloudwatch.IMetric],
        must_stay_empty: dict[str, sqs.IQueue],
        backlogs: dict[str, tuple[sqs.IQueue, int]],
    ) -> cloudwatch.Dashboard:
        """Every metric the functions emit is on a widget (tests/infrastructure/test_metric_names.py)."""
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4))
        dashboard.add_widgets(
            graph(
                "Agent events",
                left=[
                    MetricName.AGENT_EVENTS_APPLIED,
                    MetricName.AGENT_EVENTS_STALE_SKIPPED,
                    MetricName.AGENT_EVENTS_DUPLICATE,
                    MetricName.AGENT_EVENTS_QUARANTINED,
                    MetricName.FOREIGN_RECORDS_SKIPPED,
                ],
                right=[MetricName.AGENT_EVENTS_RETRIED],
            ),
            graph(
                "Contact events",
                left=[
                    MetricName.CONTACT_EVENTS_APPLIED,
                    MetricName.CONTACT_EVENTS_STALE_SKIPPED,
                    MetricName.CONTACT_EVENTS_DUPLICATE,
                    MetricName.CONTACT_EVENTS_QUARANTINED,
                    MetricName.CONTACT_EVENTS_UNKNOWN_TYPE,
                ],
                right=[MetricName.CONTACT_ABANDONED_PUBLISHED, MetricName.CONTACT_EVENTS_RETRIED],
            ),
        )
        dashboard.add_widgets(
            graph(
                "Wallboard",
                left=[
                    MetricName.BOARD_STREAM_RECORDS,
                    MetricName.BOARD_CHANNELS_RECOMPUTED,
                    MetricName.BOARD_MESSAGES_PUBLISHED,
                    MetricName.BOARD_AGENT_ROWS_WRITTEN,
                ],
                right=[MetricName.BOARD_BATCHES_RETRIED],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="End-to-end lag (s)",
                left=[pipeline_metric(name, "Maximum") for name in LAG_METRICS],
                right=list(iterator_ages),
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Function errors and throttles",
                left=[function.metric_errors(period=PERIOD) for function in functions],
                right=[function.metric_throttles(period=PERIOD) for function in functions],
                width=12,
            ),
        )
        if config.enrichment.enabled:
            dashboard.add_widgets(
                graph(
                    "Contact enrichment",
                    left=[
                        MetricName.CONTACTS_ENRICHED,
                        MetricName.CONTACTS_ENRICHED_ACW_IN_PROGRESS,
                        MetricName.CONTACT_ENRICHMENT_NOT_FOUND,
                        MetricName.CONTACT_ENRICHMENT_SKIPPED,
                        MetricName.CONTACT_ENRICHMENT_SUPERSEDED,
                        MetricName.CONTACT_ENRICHMENT_RETRIED,
                        MetricName.CONTACT_ENRICHMENT_DEAD_LETTERED,
                        MetricName.CONTACT_ENRICHMENT_POSTPONE_FAILED,
                    ],
                    right=[MetricName.DESCRIBE_CONTACT_CALLS, MetricName.DESCRIBE_CONTACT_THROTTLED],
                ),
                cloudwatch.GraphWidget(
                    title="Backlog: age of the oldest message (s)",
                    left=[
                        queue.metric_approximate_age_of_oldest_message(period=PERIOD, label=name)
                        for name, (queue, _) in backlogs.items()
                    ],
                    width=12,
                ),
            )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Queues that must stay empty",
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=PERIOD, label=name)
                    for name, queue in must_stay_empty.items()
                ],
                width=24,
            ),
        )
        return dashboard

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        periods: int = 1,
        missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            # Fixed, documented names (README "Operations"), not generated ones nobody can know before deploying.
            alarm_name=f"{self._stack_name}-{name}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=comparison,
            treat_missing_data=missing_data,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)


def received(label: str, names: Sequence[MetricName]) -> cloudwatch.MathExpression:
    """Events a function read and understood in each five minutes; 0, not missing, when none arrived (FILL)."""
    ids = {name[0].lower() + name[1:]: name for name in names}
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in ids),
        using_metrics={metric_id: pipeline_metric(name, period=SILENCE_PERIOD) for metric_id, name in ids.items()},
        period=SILENCE_PERIOD,
        label=label,
    )


def graph(title: str, *, left: Sequence[MetricName], right: Sequence[MetricName] = ()) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=[pipeline_metric(name) for name in left],
        right=[pipeline_metric(name) for name in right],
        width=12,
    )
