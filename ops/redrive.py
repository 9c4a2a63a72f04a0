"""Send a queue's messages back where they came from, once the cause is fixed.

    python -m ops.redrive contact-events-quarantine        # one of ROUTES; --list shows them

Each route has its own source and destination, so no message reaches the wrong consumer: every EventBridge rule has
its own dead-letter queue (COMPLETED and DISCONNECTED enrichment triggers never land on the contact buffer queue).

SQS moves messages (StartMessageMoveTask, the console's "Start DLQ redrive") only out of a queue that is the
dead-letter queue of another SQS queue. The tool checks that itself (ListDeadLetterSourceQueues) and uses it where it
applies: the buffer queue's and the enrichment queues' dead-letter queues. Quarantine queues and the rules'
dead-letter queues are written by a function or by EventBridge, so SQS would refuse; for those the tool moves the
messages itself: receive, send the body unchanged to the destination, delete what was sent (a crash in between sends
a message twice, which the functions treat as the duplicate it is). A quarantined event whose text was cut short
in the quarantine message is left where it is: only the EventBridge archive still has it (ops.replay_contacts).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from ops.adapters import SqsQueue
from ops.aws import Aws, OperationError, StackOutputs, aws_for, parser
from ops.ports import Message, Queue

MOVE_TASK_POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Route:
    name: str
    source_output: str
    destination_output: str
    holds: str


ROUTES = (
    Route(
        "contact-events-dead-letter",
        "ContactEventsDeadLetterQueueUrl",
        "ContactEventsBufferQueueUrl",
        "contact events the contact events function failed on 5 times",
    ),
    Route(
        "contact-events-quarantine",
        "ContactEventsQuarantineQueueUrl",
        "ContactEventsBufferQueueUrl",
        "contact events the function could not read (redrive once the fix is deployed)",
    ),
    Route(
        "contact-event-rule-dead-letter",
        "ContactEventRuleDeadLetterQueueUrl",
        "ContactEventsBufferQueueUrl",
        "contact events EventBridge could not put on the buffer queue for 24 hours",
    ),
    Route(
        "enrichment-dead-letter",
        "ContactEnrichmentDeadLetterQueueUrl",
        "ContactEnrichmentCompletedQueueUrl",
        "contacts given up on by the enrichment function (each message has its reason)",
    ),
    Route(
        "enrichment-completed-rule-dead-letter",
        "ContactEnrichmentCompletedRuleDeadLetterQueueUrl",
        "ContactEnrichmentCompletedQueueUrl",
        "COMPLETED events EventBridge could not put on the completed queue",
    ),
    Route(
        "enrichment-disconnected-rule-dead-letter",
        "ContactEnrichmentDisconnectedRuleDeadLetterQueueUrl",
        "ContactEnrichmentDisconnectedQueueUrl",
        "DISCONNECTED events EventBridge could not put on the delay queue (they wait its delay again)",
    ),
)
BY_NAME = {route.name: route for route in ROUTES}


@dataclass
class MoveReport:
    moved: int = 0
    kept: list[str] = field(default_factory=list)  # message ids left in the source, with the reason printed
    unsent: int = 0


def move_messages(source: Queue, destination: Queue, progress: Callable[[str], None] = print) -> MoveReport:
    """Receive, send unchanged, delete what was sent; until the source is empty (or holds only what is kept)."""
    report = MoveReport()
    seen: set[str] = set()
    kept: list[Message] = []
    while messages := [m for m in source.receive() if m.message_id not in seen]:
        seen.update(m.message_id for m in messages)
        movable = [m for m in messages if not _cut_short(m)]
        for message in messages:
            if message not in movable:
                kept.append(message)
                report.kept.append(message.message_id)
                progress(f"  kept {message.message_id}: its event was cut short in the quarantine message")
        unsent = set(destination.send([m.body for m in movable]))
        sent = [m for index, m in enumerate(movable) if index not in unsent]
        source.delete(sent)  # only now: a message is never lost between the two queues
        report.moved += len(sent)
        report.unsent += len(unsent)
        kept.extend(m for index, m in enumerate(movable) if index in unsent)
    source.release(kept)  # visible again at once: the queue's alarm and the console show what is left
    return report


def _cut_short(message: Message) -> bool:
    """A quarantine message (`reason`, `origin`, `raw`, `rawTruncated`) whose raw event was truncated."""
    if not message.body.startswith('{"reason"'):
        return False
    try:
        document = json.loads(message.body)
    except json.JSONDecodeError:
        return False
    return isinstance(document, dict) and document.get("rawTruncated") is True


def sqs_redrive(source: SqsQueue, destination: SqsQueue, sleep: Callable[[float], None] = time.sleep) -> int:
    """SQS's own redrive out of a dead-letter queue (the caller has checked it is one); waits for the task and
    returns the messages it moved."""
    handle = source.start_move_task(destination.arn)
    print(f"  SQS message move task {handle}")
    while (task := source.latest_move_task())["Status"] == "RUNNING":
        moved, to_move = task.get("ApproximateNumberOfMessagesMoved", 0), task.get("ApproximateNumberOfMessagesToMove")
        print(f"  moved {moved} of {to_move}")
        sleep(MOVE_TASK_POLL_SECONDS)
    if task["Status"] != "COMPLETED":
        raise OperationError(f"the move task ended {task['Status']}: {task.get('FailureReason', 'no reason given')}")
    return int(task.get("ApproximateNumberOfMessagesMoved", 0))


def redrive(aws: Aws, outputs: StackOutputs, route: Route, sleep: Callable[[float], None] = time.sleep) -> int:
    sqs = aws.client("sqs")
    source = SqsQueue(sqs, outputs[route.source_output])
    destination = SqsQueue(sqs, outputs[route.destination_output])
    print(f"{route.name}: {route.holds}\n  from {source.url}\n  to   {destination.url}")
    if source.dead_letter_sources():
        moved = sqs_redrive(source, destination, sleep)
        print(f"moved {moved} message(s) with SQS's dead-letter queue redrive")
        return 0
    report = move_messages(source, destination)
    print(f"moved {report.moved} message(s); {len(report.kept)} kept; {report.unsent} not taken by the destination")
    return 1 if report.kept or report.unsent else 0


def main(argv: Sequence[str] | None = None, *, sleep: Callable[[float], None] = time.sleep) -> int:
    result = parser("ops.redrive", "Send a queue's messages back where they came from.")
    result.add_argument("queue", nargs="?", choices=sorted(BY_NAME), help="which queue (see --list)")
    result.add_argument("--list", action="store_true", help="list the queues and where each one goes back to")
    args = result.parse_args(argv)
    if args.list or not args.queue:
        for route in ROUTES:
            print(f"  {route.name:42} {route.holds}")
        return 0 if args.list else 2
    try:
        aws = aws_for(args)
        return redrive(aws, aws.outputs(args.stack), BY_NAME[args.queue], sleep)
    except (OperationError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
