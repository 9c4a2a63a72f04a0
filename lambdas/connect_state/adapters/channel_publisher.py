"""Publishing board messages to channels over AWS AppSync Events' HTTP endpoint (service.ports.ChannelPublisher).

The request is the one AppSync Events documents ("Publish events via HTTP"): `POST https://<HTTP domain>/event` with
`{"channel": "/board/queues/<id>", "events": ["<JSON text>", ...]}`, each event a JSON value as a string, at most 5
events a request. With IAM authorization the request is signed with Signature Version 4 for the service `appsync`
(botocore's SigV4Auth, with the function's own credentials); the local demo server takes the same body unsigned.

Hand-written on botocore rather than an SDK call: boto3 has no client for the Event API's data plane (its `appsync`
client is the control plane), and botocore already brings what a signed POST needs (AWSRequest, SigV4Auth, its
urllib3 session), so nothing is added to the layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.httpsession import URLLib3Session

if TYPE_CHECKING:
    from botocore.credentials import Credentials

SIGNING_SERVICE = "appsync"
MAX_EVENTS_PER_REQUEST = 5  # AppSync Events: "You can publish up to 5 events in a batch"
TIMEOUT_SECONDS = 5


class ChannelPublishError(RuntimeError):
    """The endpoint refused or failed the publish: the batch is delivered again (handlers.board_changes)."""


class HttpResponse(Protocol):
    status_code: int


class HttpSender(Protocol):
    def send(self, request: AWSPreparedRequest) -> HttpResponse: ...


def publish_body(channel: str, messages: Sequence[Mapping[str, Any]]) -> bytes:
    events = [json.dumps(message, separators=(",", ":"), sort_keys=True) for message in messages]
    return json.dumps({"channel": channel, "events": events}, separators=(",", ":")).encode()


class HttpChannelPublisher:
    """POSTs to the publish URL; signs each request when `credentials` are given (CHANNEL_PUBLISH_AUTH=iam)."""

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        region: str | None = None,
        sender: HttpSender | None = None,
    ) -> None:
        if credentials is not None and not region:
            raise ValueError("signing a publish needs the Region of the Event API")
        self._url = url
        self._credentials = credentials
        self._region = region
        self._sender: HttpSender = sender or URLLib3Session(timeout=TIMEOUT_SECONDS)
        self.requests = 0
        self.events = 0

    def publish(self, channel: str, messages: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_EVENTS_PER_REQUEST):
            batch = messages[start : start + MAX_EVENTS_PER_REQUEST]
            response = self._sender.send(self.prepare(channel, batch))
            self.requests += 1
            if not 200 <= response.status_code < 300:
                # The status only: the body may echo the events back.
                raise ChannelPublishError(f"publish to {channel} answered HTTP {response.status_code}")
            self.events += len(batch)

    def prepare(self, channel: str, messages: Sequence[Mapping[str, Any]]) -> AWSPreparedRequest:
        request = AWSRequest(
            method="POST",
            url=self._url,
            data=publish_body(channel, messages),
            headers={"content-type": "application/json"},
        )
        if self._credentials is not None:
            # get_frozen_credentials: the Lambda role's credentials refresh; one consistent set per signature.
            SigV4Auth(self._credentials.get_frozen_credentials(), SIGNING_SERVICE, str(self._region)).add_auth(request)
        return request.prepare()


class DisabledPublisher:
    """CHANNEL_PUBLISH_URL=disabled: no channel service yet; the read model is kept all the same."""

    requests = 0
    events = 0

    def publish(self, channel: str, messages: Sequence[Mapping[str, Any]]) -> None:
        return None
