"""Replay a time range of contact events from the stack's EventBridge archive into the contact state rule (and, with
`--enrich`, the enrichment rules).

    python -m ops.replay_contacts --from 2026-11-20T08:00:00Z [--to 2026-11-20T18:00:00Z] [--enrich]

The archive keeps the instances' contact events `contactEventArchiveDays` days. EventBridge Replay sends the range
back to the default bus, only to the rules named (`FilterArns`): the contact state rule always, the COMPLETED and
DISCONNECTED enrichment rules with `--enrich` (each replayed COMPLETED then spends a DescribeContact call, within the
configured rate). The tool waits until the replay has finished.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ops.aws import OperationError, aws_for, parser
from ops.replay_stream import parse_time

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

POLL_SECONDS = 10.0
FINAL_STATES = {"COMPLETED", "CANCELLED", "FAILED"}


def default_bus_of(archive_arn: str) -> str:
    """Connect publishes contact events on the default bus of the archive's Region and account."""
    _, partition, _, region, account, _ = archive_arn.split(":", 5)
    return f"arn:{partition}:events:{region}:{account}:event-bus/default"


def start_replay(
    events: EventBridgeClient,
    archive_arn: str,
    rule_arns: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
) -> str:
    name = f"contacts-{start:%Y%m%dT%H%M%S}-{now:%Y%m%dT%H%M%S}"
    events.start_replay(
        ReplayName=name,
        Description="ops.replay_contacts",
        EventSourceArn=archive_arn,
        EventStartTime=start,
        EventEndTime=end,
        Destination={"Arn": default_bus_of(archive_arn), "FilterArns": list(rule_arns)},
    )
    return name


def wait_for(events: EventBridgeClient, name: str, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    while (replay := events.describe_replay(ReplayName=name))["State"] not in FINAL_STATES:
        print(f"  {name}: {replay['State']}, replayed up to {replay.get('EventLastReplayedTime', '-')}")
        sleep(POLL_SECONDS)
    return dict(replay)


def main(argv: Sequence[str] | None = None, *, sleep: Callable[[float], None] = time.sleep) -> int:
    arguments = parser("ops.replay_contacts", "Replay contact events from the archive.")
    arguments.add_argument("--from", dest="from_", metavar="TIME", required=True, help="ISO 8601, UTC by default")
    arguments.add_argument("--to", metavar="TIME", help="default: now")
    arguments.add_argument("--enrich", action="store_true", help="also to the enrichment rules (DescribeContact)")
    args = arguments.parse_args(argv)
    now = datetime.now(UTC)
    try:
        start, end = parse_time(args.from_), parse_time(args.to) if args.to else now
        aws = aws_for(args)
        outputs = aws.outputs(args.stack)
        if outputs.get("ContactEventArchiveArn") is None:
            raise OperationError("the stack keeps no archive (contactEventArchiveDays is 0): nothing to replay")
        rules = [outputs["ContactEventRuleArn"]]
        if args.enrich:
            rules += outputs["ContactEnrichmentRuleArns"].split(",")
        events = aws.client("events")
        name = start_replay(events, outputs["ContactEventArchiveArn"], rules, start, end, now)
        print(f"replay {name}: {start.isoformat()} to {end.isoformat()} into {len(rules)} rule(s)")
        replay = wait_for(events, name, sleep)
    except (OperationError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"replay {name}: {replay['State']} {replay.get('StateReason', '')}".rstrip())
    return 0 if replay["State"] == "COMPLETED" else 1


if __name__ == "__main__":
    sys.exit(main())
