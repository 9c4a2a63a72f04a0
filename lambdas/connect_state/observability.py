"""Powertools Logger, Tracer and Metrics shared by every function; configured by POWERTOOLS_* variables.

The Tracer is built only when tracing is on (the stack sets POWERTOOLS_TRACE_DISABLED from its `tracing` setting):
Powertools' Tracer loads the X-Ray SDK when it is created, even disabled, and that is about a quarter of a cold start.
Off, `instrumented` leaves the handler untraced, which is all a disabled Tracer did.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

if TYPE_CHECKING:
    from connect_state.metric_names import MetricName
    from connect_state.service.coalescing import BatchReport

logger = Logger()
metrics = Metrics()
tracer = None if resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false")) else Tracer()


def _traced(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The handler in an X-Ray segment: Tracer.capture_lambda_handler, without recording the response."""
    if tracer is None:
        return handler
    return tracer.capture_lambda_handler(handler, capture_response=False)


def instrumented(handler: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """Every function's entry point: logs carry the Lambda context (and nothing from the previous invocation), the
    invocation is traced, and the metrics added during it are flushed as one EMF line at its end. Typed to take any
    context object, as the tests and the demo pass their own."""
    return logger.inject_lambda_context(_traced(metrics.log_metrics(handler)), clear_state=True)


def debug_enabled() -> bool:
    """Whether a DEBUG line would be written: per-item DEBUG lines are not built when it would not."""
    return logging.getLogger(logger.name).isEnabledFor(logging.DEBUG)


def add_counts(counts: Mapping[str, int], names: Mapping[str, MetricName]) -> None:
    for outcome, count in counts.items():
        metrics.add_metric(name=names[outcome], unit=MetricUnit.Count, value=count)


def add_batch_metrics(
    report: BatchReport[Any], names: Mapping[str, MetricName], retried: MetricName, lag: MetricName
) -> None:
    """A coalesced batch's outcomes, the records Lambda delivers again, and the oldest record's lag."""
    add_counts(report.counts, names)
    if report.failed:
        metrics.add_metric(name=retried, unit=MetricUnit.Count, value=len(report.failed))
    if report.lag_seconds:
        metrics.add_metric(name=lag, unit=MetricUnit.Seconds, value=max(report.lag_seconds))
