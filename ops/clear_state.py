"""Empty the state tables before a rebuild (README "Operations": rebuild state from scratch).

    python -m ops.clear_state --yes [--table agent|contact]

Deletes every item (Scan of the keys, BatchWriteItem deletes, unprocessed ones retried), leaving the tables, their
indexes, streams and alarms as deployed. A wallboard reading the table sees it empty until the replays refill it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ops.aws import OperationError, aws_for, parser

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE_OUTPUTS = {"agent": "AgentStateTableName", "contact": "ContactStateTableName"}
BATCH = 25  # BatchWriteItem's limit


def clear_table(dynamodb: DynamoDBClient, table_name: str, sleep: Callable[[float], None] = time.sleep) -> int:
    """Delete every item; returns how many."""
    keys = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table_name)["Table"]["KeySchema"]]
    names = {f"#k{i}": key for i, key in enumerate(keys)}
    deleted = 0
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table_name, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
    )
    for page in pages:
        items = page["Items"]
        for start in range(0, len(items), BATCH):
            request: Any = {table_name: [{"DeleteRequest": {"Key": key}} for key in items[start : start + BATCH]]}
            attempt = 0
            while request:
                request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems")
                if request:
                    sleep(min(0.1 * 2**attempt, 5.0))  # throttled: back off, as the SDK's batch writer does
                    attempt += 1
            deleted += len(items[start : start + BATCH])
    return deleted


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser("ops.clear_state", "Empty the state tables before a rebuild.")
    arguments.add_argument("--table", choices=sorted(TABLE_OUTPUTS), help="one table (default: both)")
    arguments.add_argument("--yes", action="store_true", help="required: every item is deleted")
    args = arguments.parse_args(argv)
    tables = [args.table] if args.table else sorted(TABLE_OUTPUTS)
    try:
        aws = aws_for(args)
        outputs = aws.outputs(args.stack)
        names = [outputs[TABLE_OUTPUTS[table]] for table in tables]
        if not args.yes:
            raise OperationError(f"this deletes every item of {', '.join(names)}: add --yes (make clear-state YES=1)")
        dynamodb = aws.client("dynamodb")
        for name in names:
            print(f"{name}: {clear_table(dynamodb, name):,} items deleted")
    except (OperationError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
