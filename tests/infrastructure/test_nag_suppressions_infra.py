"""Every cdk-nag suppression in the template silences a finding that fires without it, in every configuration.

cdk-nag writes a compliance report next to the template (AwsSolutions-...-NagReport.csv): one row per rule and
resource, `Suppressed` with the suppression's reason (prefixed with `[<finding>]` for a granular rule such as IAM5)
when the rule fired and a suppression matched it. A suppression with no such row matches nothing: it only hides
the next real finding on that resource.
"""

from __future__ import annotations

import base64
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest

from tests.infrastructure.conftest import synth

pytestmark = pytest.mark.xdist_group("cdk")
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"
STREAM_ARN = "arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events"
TOPIC_ARN = "arn:aws:sns:eu-west-2:111122223333:oncall"
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "customer key": {"kmsKeyArn": KEY},
    "imported stream with customer key": {"agentEventStreamArn": STREAM_ARN, "kmsKeyArn": KEY},
    "imported stream, no tracing, no enrichment, own alarm topic": {
        "agentEventStreamArn": STREAM_ARN,
        "tracing": False,
        "enrichment": {"enabled": False},
        "alarms": {"topicArn": TOPIC_ARN},
    },
}


def nag_report(stack: cdk.Stack) -> list[dict[str, str]]:
    outdir = Path(cast(cdk.App, stack.node.root).outdir)
    (report,) = outdir.glob(f"AwsSolutions-*{stack.stack_name}-NagReport.csv")
    with report.open(newline="") as lines:
        return list(csv.DictReader(lines))


def suppressions(template: Any) -> Iterator[tuple[str, str, str | dict[str, str] | None, str]]:
    """(resource path, rule id, one `appliesTo` entry or None, reason) for every suppression in the template."""
    for resource in template.to_json()["Resources"].values():
        metadata = resource.get("Metadata", {})
        for rule in metadata.get("cdk_nag", {}).get("rules_to_suppress", []):
            reason = rule["reason"]
            if rule.get("is_reason_encoded"):
                reason = base64.b64decode(reason).decode()
            for entry in rule.get("applies_to") or [None]:
                yield metadata["aws:cdk:path"], rule["id"], entry, reason


def matches(entry: str | dict[str, str] | None, reason: str, reported: str) -> bool:
    """Whether a report row's reason is this suppression applied to a finding that `entry` names."""
    if entry is None:
        return reported == reason
    if not (reported.startswith("[") and reported.endswith(f"] {reason}")):
        return False
    finding = reported[1 : -len(reason) - 2]
    if isinstance(entry, str):
        return finding == entry
    pattern, flags = re.fullmatch(r"/(.*)/(\w*)", entry["regex"]).groups()  # type: ignore[union-attr]
    return re.search(pattern, finding, re.IGNORECASE if "i" in flags else 0) is not None


@pytest.mark.parametrize("context", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_every_suppression_silences_a_finding_that_fires_without_it(context: dict[str, Any]) -> None:
    stack, template = synth(**context)
    report = nag_report(stack)
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
    assert "cdk_nag" not in template.to_json().get("Metadata", {})  # no stack-wide suppression either
    firing = [
        (row["Rule ID"], row["Resource ID"]) for row in report if row["Compliance"] not in ("Compliant", "Suppressed")
    ]
    assert firing == []
