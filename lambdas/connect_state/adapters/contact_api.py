"""Amazon Connect's DescribeContact behind service.ports.ContactApi, its errors sorted into the ports' ContactApiError
kinds (what the enrichment does with them).

The botocore client is built with retries off (`total_max_attempts=1`): every call must pass the rate gate
(service.rate_gate.RateGate), and a retry inside botocore would spend quota the gate never saw. Retries happen
through the queue instead, with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from connect_state.service.ports import (
    ApiThrottledError,
    ApiUnavailableError,
    ContactApiError,
    ContactNotFoundError,
    RequestRejectedError,
)

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

# One attempt, short timeouts: a slow answer is better retried later than allowed to hold the function.
CLIENT_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=10)
THROTTLING_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "LimitExceededException"})
REJECTED_CODES = frozenset({"InvalidParameterException", "InvalidRequestException"})


class ConnectContactApi:
    def __init__(self, client: ConnectClient) -> None:
        self._client = client
        self.calls = 0  # DescribeContact requests made, for the tests and the benchmark

    def describe_contact(self, instance_id: str, contact_id: str) -> Mapping[str, Any]:
        self.calls += 1
        try:
            response = self._client.describe_contact(InstanceId=instance_id, ContactId=contact_id)
        except ClientError as error:
            raise _classify(error) from None
        except BotoCoreError as error:
            raise ApiUnavailableError(type(error).__name__) from None
        contact: Mapping[str, Any] = response.get("Contact") or {}
        return contact


def _classify(error: ClientError) -> ContactApiError:
    code = error.response.get("Error", {}).get("Code", "")
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code == "ResourceNotFoundException":
        return ContactNotFoundError(code)
    if code in THROTTLING_CODES or status == 429:
        return ApiThrottledError(code or "HTTP 429")
    if code in REJECTED_CODES:
        return RequestRejectedError(code)
    return ApiUnavailableError(code or f"HTTP {status}")
