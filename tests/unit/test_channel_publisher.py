"""The channel publisher's requests, as AWS AppSync Events documents its HTTP publish ("Publish events via HTTP":
POST https://<HTTP domain>/event, body {"channel", "events": [JSON strings]}, at most 5 events a request), signed with
SigV4 for the service `appsync` when IAM authorizes publishing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.credentials import Credentials

from connect_state.adapters.channel_publisher import (
    ChannelPublishError,
    DisabledPublisher,
    HttpChannelPublisher,
)

URL = "https://abcdefghijklmnopqrstuvwxyz.appsync-api.eu-west-2.amazonaws.com/event"
CHANNEL = "/board/queues/11111111-2222-3333-4444-555555555555"


@dataclass
class Response:
    status_code: int


@dataclass
class RecordingSender:
    status: int = 200
    sent: list[AWSPreparedRequest] = field(default_factory=list)

    def send(self, request: AWSPreparedRequest) -> Response:
        self.sent.append(request)
        return Response(self.status)


def body(request: AWSPreparedRequest) -> dict[str, Any]:
    assert isinstance(request.body, bytes)
    document: dict[str, Any] = json.loads(request.body)
    return document


def test_a_signed_publish_is_a_sigv4_post_for_appsync_with_the_documented_body(no_network: None) -> None:
    # Given a publisher with the function's credentials (a session token, as Lambda's role gives)
    sender = RecordingSender()
    credentials = Credentials("AKIDEXAMPLE", "secret", "session-token")
    publisher = HttpChannelPublisher(URL, credentials=credentials, region="eu-west-2", sender=sender)
    message = {"channel": CHANNEL, "seq": 3, "kind": "view", "queue": {"CONTACTS_IN_QUEUE": 2}}
    # When one message is published
    publisher.publish(CHANNEL, [message])
    # Then one POST to the event endpoint, signed for appsync in the API's Region
    (request,) = sender.sent
    assert (request.method, request.url) == ("POST", URL)
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["x-amz-security-token"] == "session-token"
    assert re.fullmatch(r"\d{8}T\d{6}Z", headers["x-amz-date"])
    authorization = headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert re.search(r"Credential=AKIDEXAMPLE/\d{8}/eu-west-2/appsync/aws4_request", authorization)
    signed = re.search(r"SignedHeaders=([^,]+)", authorization)
    assert signed is not None
    assert {"host", "x-amz-date", "content-type", "x-amz-security-token"} <= set(signed.group(1).split(";"))
    assert re.search(r"Signature=[0-9a-f]{64}$", authorization)
    # and the body is AppSync's: the channel, and each event a JSON value as a string
    document = body(request)
    assert document["channel"] == CHANNEL
    assert [json.loads(event) for event in document["events"]] == [message]
    assert all(isinstance(event, str) for event in document["events"])


def test_more_than_five_messages_go_in_requests_of_at_most_five(no_network: None) -> None:
    sender = RecordingSender()
    HttpChannelPublisher(URL, sender=sender).publish(CHANNEL, [{"seq": n} for n in range(12)])
    assert [len(body(request)["events"]) for request in sender.sent] == [5, 5, 2]


def test_an_unsigned_publish_for_the_local_server_has_no_authorization(no_network: None) -> None:
    sender = RecordingSender()
    HttpChannelPublisher("http://localhost:8123/event", sender=sender).publish(CHANNEL, [{"seq": 1}])
    headers = {name.lower() for name in sender.sent[0].headers}
    assert "authorization" not in headers
    assert "x-amz-date" not in headers


def test_a_refused_publish_raises_so_the_batch_is_delivered_again(no_network: None) -> None:
    publisher = HttpChannelPublisher(URL, sender=RecordingSender(status=403))
    with pytest.raises(ChannelPublishError, match="HTTP 403"):
        publisher.publish(CHANNEL, [{"seq": 1}])


def test_signing_needs_a_region() -> None:
    with pytest.raises(ValueError, match="Region"):
        HttpChannelPublisher(URL, credentials=Credentials("a", "b"))


def test_the_disabled_publisher_sends_nothing(no_network: None) -> None:
    DisabledPublisher().publish(CHANNEL, [{"seq": 1}])
