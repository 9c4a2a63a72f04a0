"""Alarms to an SNS topic and one dashboard: is the pipeline healthy and current? (README "Operations")."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs.lambda_runtime import METRICS_NAMESPACE, SERVICE_NAME

PERIOD = Duration.minutes(1)


def pipeline_metric(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
    """A Powertools (EMF) metric of the functions: one namespace, the `service` dimension only."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE_NAME},
        statistic=statistic,
        period=PERIOD,
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
        stream_consumer: lambda_.Function,
        queues_that_must_stay_empty: dict[str, sqs.IQueue],
        lag_metrics: Sequence[str],
        backlogs: dict[str, tuple[sqs.IQueue, int]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.alarms
        if settings.topic_arn:
            self.topic: sns.ITopic = sns.Topic.from_topic_arn(self, "AlarmTopic", settings.topic_arn)
        else:
            topic = sns.Topic(self, "AlarmTopic", master_key=encryption_key, enforce_ssl=True)
            if encryption_key is None:
                NagSuppressions.add_resource_suppressions(
                    topic,
                    [
                        {
                            "id": "AwsSolutions-SNS2",
                            "reason": "Alarm notifications carry no customer data; set kmsKeyArn to encrypt anyway.",
                        }
                    ],
                )
            self.topic = topic
        if settings.email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.email))
        self.alarms: list[cloudwatch.Alarm] = []

        # The agent stream consumer falling behind: the state is getting old.
        iterator_age = cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name="IteratorAge",
            dimensions_map={"FunctionName": stream_consumer.function_name},
            statistic="Maximum",
            period=PERIOD,
        )
        self._alarm(
            "AgentStreamIteratorAge",
            iterator_age,
            threshold=settings.iterator_age_seconds * 1000,
            description=f"The agent event consumer is more than {settings.iterator_age_seconds} s behind the stream.",
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
        for metric_name in lag_metrics:
            self._alarm(
                metric_name.removesuffix("Seconds"),
                pipeline_metric(metric_name, "Maximum"),
                threshold=settings.end_to_end_lag_seconds,
                description=f"Events reach the state over {settings.end_to_end_lag_seconds} s after they happened.",
            )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Events applied / skipped",
                left=[
                    pipeline_metric(name)
                    for name in (
                        "AgentEventsApplied",
                        "AgentEventsStaleSkipped",
                        "AgentEventsDuplicate",
                        "AgentEventsQuarantined",
                        "ForeignRecordsSkipped",
                    )
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="End-to-end lag (s)",
                left=[pipeline_metric(name, "Maximum") for name in lag_metrics],
                right=[iterator_age],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Contact enrichment",
                left=[
                    pipeline_metric(name)
                    for name in (
                        "ContactsEnriched",
                        "ContactsEnrichedAcwInProgress",
                        "ContactEnrichmentNotFound",
                        "ContactEnrichmentRetried",
                        "ContactEnrichmentDeadLettered",
                    )
                ],
                right=[pipeline_metric("DescribeContactCalls"), pipeline_metric("DescribeContactThrottled")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Backlog: age of the oldest message (s)",
                left=[
                    queue.metric_approximate_age_of_oldest_message(period=PERIOD, label=name)
                    for name, (queue, _) in (backlogs or {}).items()
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors and throttles",
                left=[function.metric_errors(period=PERIOD) for function in functions],
                right=[function.metric_throttles(period=PERIOD) for function in functions],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Queues that must stay empty",
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=PERIOD, label=name)
                    for name, queue in queues_that_must_stay_empty.items()
                ],
                width=12,
            ),
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, *, threshold: float, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
