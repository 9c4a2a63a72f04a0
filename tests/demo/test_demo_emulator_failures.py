"""`make demo` on a busy machine: a slow emulator is waited for and retried; a dead one ends the run in one line, with
the server stopped (by its process id) and its log kept. ~3 s per test that starts a moto server."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from demo import emulator, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("emulator")]

CALLER_IDENTITY = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    b"<Arn>arn:aws:iam::123456789012:user/moto</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>"
    b"</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    b"</GetCallerIdentityResponse>"
)


class StalledServer:
    """A local HTTP endpoint that leaves the first `stalls` requests unanswered (as a server too busy to answer
    would), then answers STS GetCallerIdentity."""

    def __init__(self, stalls: int) -> None:
        self.stalls = stalls
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> StalledServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            connection.recv(65536)
            self.requests += 1
            if self.requests <= self.stalls:
                self._held.append(connection)  # never answered
                continue
            header = f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {len(CALLER_IDENTITY)}\r\n\r\n"
            connection.sendall(header.encode() + CALLER_IDENTITY)
            connection.close()


def sts(endpoint_url: str, read_timeout_seconds: float) -> Any:
    config = emulator.client_config(read_timeout_seconds=read_timeout_seconds)
    return boto3.client(  # type: ignore[call-overload]
        "sts", endpoint_url=endpoint_url, region_name="eu-west-2", config=config, **emulator.CREDENTIALS
    )


def test_the_demo_waits_longer_than_botocore_for_a_busy_emulator() -> None:
    # botocore's default read timeout is 60 s: a put_records to a loaded emulator took longer
    assert emulator.client_config().read_timeout > 60  # type: ignore[attr-defined]  # not in botocore-stubs


def test_a_call_the_emulator_leaves_unanswered_is_retried() -> None:
    # Given an emulator that leaves the first request unanswered
    with StalledServer(stalls=1) as server:
        # When the demo's client calls it (with a short timeout, to keep the test short)
        identity = sts(server.endpoint_url, read_timeout_seconds=0.5).get_caller_identity()
    # Then the retry gets the answer
    assert (identity["Account"], server.requests) == ("123456789012", 2)


def test_an_emulator_that_never_answers_is_given_up_after_the_configured_attempts() -> None:
    with StalledServer(stalls=100) as server, pytest.raises(ReadTimeoutError):
        sts(server.endpoint_url, read_timeout_seconds=0.3).get_caller_identity()
    assert server.requests == emulator.MAX_ATTEMPTS


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> list[emulator.LocalAws]:
    """The demo's moto servers, recorded as the demo starts them."""
    started: list[emulator.LocalAws] = []

    class RecordedLocalAws(emulator.LocalAws):
        def __enter__(self) -> emulator.LocalAws:
            started.append(super().__enter__())
            return started[-1]

    monkeypatch.setattr(run, "LocalAws", RecordedLocalAws)
    return started


def demo_failure(tmp_path: Path) -> str:
    with pytest.raises(SystemExit) as raised:
        run.main(["--agents", "2", "--minutes", "1", "--out", str(tmp_path)])
    message = str(raised.value.code)
    assert len(message.splitlines()) == 1
    assert "Traceback" not in message
    return message


def assert_stopped(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_emulator_that_dies_ends_the_demo_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: list[emulator.LocalAws]
) -> None:
    # Given the emulator dies while the demo deploys into it
    pids: list[int] = []

    def deploy_into_a_dying_server(endpoint_url: str, context: dict[str, str]) -> dict[str, str]:
        pids.append(servers[0].pid or -1)
        os.kill(pids[0], signal.SIGKILL)
        return emulator.deploy_stack(endpoint_url, context)

    monkeypatch.setattr(run, "deploy_stack", deploy_into_a_dying_server)
    # When the demo runs, Then it ends with one line that says so, the server stopped and its log kept
    message = demo_failure(tmp_path)
    assert message.startswith(f"error: the local AWS emulator (moto server, pid {pids[0]}) exited")
    assert message.endswith(f"its log: {tmp_path / 'moto.log'}")
    assert (tmp_path / "moto.log").exists()
    assert_stopped(pids[0])


def test_an_emulator_that_stops_answering_is_stopped_and_said_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: list[emulator.LocalAws]
) -> None:
    # Given the emulator's answers time out for good (every retry included)
    pids: list[int] = []

    def deploy_into_a_silent_server(endpoint_url: str, context: dict[str, str]) -> dict[str, str]:
        pids.append(servers[0].pid or -1)
        raise ReadTimeoutError(endpoint_url=endpoint_url)

    monkeypatch.setattr(run, "deploy_stack", deploy_into_a_silent_server)
    message = demo_failure(tmp_path)
    # Then the one line says it did not answer, and the server it left running is stopped
    assert message.startswith(f"error: the local AWS emulator (moto server, pid {pids[0]}) did not answer")
    assert_stopped(pids[0])
