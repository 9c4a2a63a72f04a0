"""The page signs in with Amazon Cognito's hosted UI (authorization code + PKCE) and sends the token where AWS wants it.

Cognito is played by Playwright routes on the hosted-UI domain: the authorize request is checked and answered with a
redirect back to the board with a code; the token endpoint checks the PKCE verifier against the challenge and answers
fake tokens. The local server records the credentials each request carried (it checks none: AWS does that).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect

from demo.board_server import BoardServer
from tests.browser.conftest import FakeBoard

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

DOMAIN = "https://wallboard-test.auth.eu-west-2.amazoncognito.com"
CLIENT_ID = "4example0client0id0abcdefg"
AUTH = {
    "type": "cognito",
    "domain": DOMAIN,
    "clientId": CLIENT_ID,
    "region": "eu-west-2",
    "userPoolId": "eu-west-2_Example1",
}


class FakeHostedUi:
    """Cognito's /oauth2/authorize and /oauth2/token, as far as a public client with PKCE uses them."""

    def __init__(self, first_expires_in: int = 3600) -> None:
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.token_times: list[float] = []  # time.monotonic() of each token request
        self.first_expires_in = first_expires_in
        self.issued = 0

    def handle(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.path == "/oauth2/authorize":
            params = {key: values[0] for key, values in parse_qs(url.query).items()}
            self.authorize_requests.append(params)
            back = f"{params['redirect_uri']}?{urlencode({'code': 'code-1', 'state': params['state']})}"
            route.fulfill(status=302, headers={"location": back})
        elif url.path == "/oauth2/token" and route.request.method == "POST":
            form = {key: values[0] for key, values in parse_qs(route.request.post_data or "").items()}
            self.token_requests.append(form)
            self.token_times.append(time.monotonic())
            self.issued += 1
            answer: dict[str, Any] = {"access_token": f"access-{self.issued}", "token_type": "Bearer"}
            if form.get("grant_type") == "authorization_code":
                answer |= {"id_token": "id-1", "refresh_token": "refresh-1", "expires_in": self.first_expires_in}
            else:
                answer |= {"id_token": f"id-{self.issued}", "expires_in": 3600}  # no new refresh token, as Cognito
            origin = route.request.headers.get("origin", "*")
            route.fulfill(
                status=200,
                content_type="application/json",
                headers={"access-control-allow-origin": origin},
                body=json.dumps(answer),
            )
        else:
            route.fulfill(status=404, body="not part of the fake hosted UI")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@pytest.fixture
def server_options() -> dict[str, Any]:
    return {"keepalive_seconds": 5.0, "auth": AUTH}


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport={"width": 1600, "height": 900})
    yield opened
    opened.close()


def watch_console(page: Page, allowed: tuple[str, ...] = ()) -> list[str]:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not any(text in message.text for text in allowed):
            problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def wait_until(page: Page, condition: Any, seconds: float = 8) -> None:
    """Poll `condition`, letting Playwright run meanwhile (its sync API dispatches route handlers only inside its
    own calls: a plain sleep would hold the fake hosted UI's answers back)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def test_sign_in_with_pkce_then_every_request_carries_the_access_token(
    context: BrowserContext, board: FakeBoard
) -> None:
    server = board.server
    assert server is not None
    hosted = FakeHostedUi()
    context.route(f"{DOMAIN}/**", hosted.handle)
    page = context.new_page()
    problems = watch_console(page)

    # Given no session: the page goes to the hosted UI, comes back with a code and exchanges it
    page.goto(server.url)
    expect(page.locator('[data-metric="connection"]')).to_have_attribute("data-state", "live")

    # Then the authorize request was an authorization-code request with an S256 PKCE challenge
    [authorize] = hosted.authorize_requests
    assert authorize["response_type"] == "code"
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["client_id"] == CLIENT_ID
    assert authorize["redirect_uri"] == server.url
    assert "openid" in authorize["scope"].split()
    assert len(authorize["state"]) >= 16
    # and the code was exchanged with the verifier of that challenge (public client: no secret)
    [exchange] = hosted.token_requests
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["code"] == "code-1"
    assert exchange["client_id"] == CLIENT_ID
    assert exchange["redirect_uri"] == server.url
    assert s256(exchange["code_verifier"]) == authorize["code_challenge"]
    assert "client_secret" not in exchange
    assert page.url == server.url  # the single-use code is gone from the address bar

    # And the realtime connection, every subscription and every snapshot request carried the access token
    host = urlsplit(server.url).netloc
    seen = server.authorizations()
    connects = [a.headers for a in seen if a.kind == "connect"]
    subscribes = [(a.channel, a.headers) for a in seen if a.kind == "subscribe"]
    snapshots = [a.headers["Authorization"] for a in seen if a.kind == "snapshot"]
    assert connects == [{"Authorization": "access-1", "host": host}]
    assert subscribes == [
        (channel, {"Authorization": "access-1", "host": host}) for channel in ("/board/agents", "/board/queues/*")
    ]
    assert len(snapshots) >= 2  # `*` before subscribing, then again once subscribed
    assert set(snapshots) == {"access-1"}

    # And the sign-out link ends the hosted-UI session and comes back to the board
    sign_out = page.locator('[data-metric="signOut"]')
    expect(sign_out).to_be_visible()
    link = urlsplit(sign_out.get_attribute("href") or "")
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{DOMAIN}/logout"
    assert parse_qs(link.query) == {"client_id": [CLIENT_ID], "logout_uri": [server.url]}
    assert problems == []


class TestRefresh:
    @pytest.fixture
    def hosted(self) -> FakeHostedUi:
        return FakeHostedUi(first_expires_in=4)  # renewed 2 s in (half its life: well before it expires)

    def test_tokens_are_renewed_before_expiry_and_after_a_401(
        self, context: BrowserContext, board: FakeBoard, hosted: FakeHostedUi
    ) -> None:
        server = board.server
        assert server is not None
        context.route(f"{DOMAIN}/**", hosted.handle)
        refused: set[str] = set()

        def snapshot_api(route: Route) -> None:  # the snapshot API's JWT authorizer, for a token it no longer takes
            token = route.request.headers.get("authorization", "")
            if token in refused:
                route.fulfill(status=401, content_type="application/json", body='{"message":"Unauthorized"}')
            else:
                route.continue_()

        context.route(f"{server.url}snapshot*", snapshot_api)
        page = context.new_page()
        problems = watch_console(page, allowed=("status of 401",))  # Chromium logs the refused request itself
        page.goto(server.url)
        expect(page.locator('[data-metric="connection"]')).to_have_attribute("data-state", "live")

        # Before the first access token expires, the page renews it with the refresh token
        wait_until(page, lambda: len(hosted.token_requests) >= 2)
        renewal = hosted.token_requests[1]
        assert renewal == {"grant_type": "refresh_token", "refresh_token": "refresh-1", "client_id": CLIENT_ID}
        assert 1.5 < hosted.token_times[1] - hosted.token_times[0] < 4  # half-way through its 4 s, not at expiry
        server.drop_connections()
        wait_until(page, lambda: server.connections_opened >= 2)
        assert [a for a in server.authorizations() if a.kind == "connect"][-1].headers["Authorization"] == "access-2"
        expect(page.locator('[data-metric="connection"]')).to_have_attribute("data-state", "live")

        # When the snapshot API refuses access-2 (revoked, say), the page renews once more and asks again
        refused.add("access-2")
        server.drop_connections()
        wait_until(page, lambda: len(hosted.token_requests) >= 3)
        assert hosted.token_requests[2]["refresh_token"] == "refresh-1"  # a refresh answer brings no new one

        def last_snapshot_token() -> Any:
            return [a.headers["Authorization"] for a in server.authorizations() if a.kind == "snapshot"][-1]

        wait_until(page, lambda: last_snapshot_token() == "access-3")
        expect(page.locator('[data-metric="connection"]')).to_have_attribute("data-state", "live")
        assert problems == []


def test_framed_the_sign_in_runs_in_a_popup_that_hands_the_code_back(
    context: BrowserContext, board: FakeBoard, tmp_path: Path
) -> None:
    server = board.server
    assert server is not None
    hosted = FakeHostedUi()
    context.route(f"{DOMAIN}/**", hosted.handle)
    # The Connect agent workspace framing the board: another origin (another local server: Chromium's local network
    # access checks would block a page from anywhere else framing a loopback address)
    (tmp_path / "index.html").write_text(
        f'<!doctype html><title>Agent workspace</title><iframe src="{server.url}" width="1400" height="800"></iframe>'
    )
    workspace = BoardServer(snapshot=lambda channel: [], static_dir=tmp_path)
    page = context.new_page()
    problems = watch_console(page)
    with workspace:
        page.goto(workspace.url)
        board_frame = page.frame_locator("iframe")

        # Framed, the page does not go to the hosted UI (which cannot be framed): it offers a button for a popup
        sign_in = board_frame.locator('[data-action="sign-in"]')
        expect(sign_in).to_be_visible()
        assert hosted.authorize_requests == []
        with page.expect_popup() as opened:
            sign_in.click()
        popup = opened.value
        popup_problems = watch_console(popup)

        # The popup signs in, posts the code to the frame and closes; the frame exchanges it with its own verifier
        expect(board_frame.locator('[data-metric="connection"]')).to_have_attribute("data-state", "live")
        wait_until(page, popup.is_closed)
        [authorize] = hosted.authorize_requests
        [exchange] = hosted.token_requests
        assert authorize["state"].startswith("popup.")
        assert s256(exchange["code_verifier"]) == authorize["code_challenge"]
        assert [a.headers["Authorization"] for a in server.authorizations() if a.kind == "connect"] == ["access-1"]
        expect(board_frame.locator(".sign-in")).to_be_hidden()
        assert problems == popup_problems == []
