"""The demo's side of the live board (demo.live_board): the push latency, from the put of the change a message
carries to the browser's render of that message, and the lines the demo prints about it; the figures read back from
the page; the simulated clock."""

from __future__ import annotations

import pytest

from demo.board_server import Publication, RenderAck
from demo.live_board import PushFigures, PutLog, SimulatedClock, figures_from_page, percentile, push_latencies

pytestmark = pytest.mark.usefixtures("no_network")
AGENT = "arn:aws:connect:eu-west-2:111122223333:instance/i/agent/a1"


def ack(
    changed: tuple[str, ...], published: float | None, rendered: float, channel: str = "/board/queues/q"
) -> RenderAck:
    return RenderAck(channel, 1, rendered, rendered + 0.01, published, changed)


def test_a_message_is_timed_from_the_last_put_of_its_key_before_it_was_published() -> None:
    # Given the agent's records put at 10.0 and 12.0, and again at 20.0 (after the message was published)
    puts = PutLog()
    for moment in (10.0, 12.0, 20.0):
        puts.put(AGENT, moment)
    # When a message carrying that agent is published at 12.5 and rendered at 13.1
    latencies = push_latencies([ack((AGENT,), published=12.5, rendered=13.1)], puts)
    # Then it is timed from the put at 12.0, not the earlier one nor the later one
    assert latencies == [pytest.approx(1.1)]


def test_a_message_carrying_several_changes_is_timed_from_the_oldest() -> None:
    puts = PutLog()
    puts.put("contact-1", 5.0)
    puts.put("contact-2", 5.6)
    assert push_latencies([ack(("contact-1", "contact-2"), published=6.0, rendered=6.5)], puts) == [pytest.approx(1.5)]


def test_messages_with_no_put_behind_them_are_not_timed() -> None:
    puts = PutLog()
    puts.put("contact-1", 5.0)
    acks = [
        ack(("end-of-simulation",), published=9.0, rendered=9.2),  # the demo's final recompute
        ack(("contact-1",), published=4.0, rendered=4.3),  # published before the put: not caused by it
        ack(("contact-1",), published=None, rendered=9.0),  # never published here
    ]
    assert push_latencies(acks, puts) == []


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([7.0], 0.95)) == (10.0, 19.0, 7.0)
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_the_printed_lines() -> None:
    puts = PutLog()
    puts.put(AGENT, 100.0)
    publications = [
        Publication("/board/agents", 1, (AGENT,), 100.4, 1),
        Publication("/board/queues/q1", 1, (AGENT,), 100.4, 1),
        Publication("/board/queues/q2", 1, (AGENT,), 100.4, 1),
        Publication("/board/queues/q1", 2, ("end-of-simulation",), 130.0, 1),
    ]
    acks = [
        ack((AGENT,), published=100.4, rendered=100.8, channel="/board/agents"),
        ack((AGENT,), published=100.4, rendered=101.2),
    ]
    push = PushFigures.measure(publications, acks, puts, seconds=20.0)
    assert push.latency_line() == (
        "push latency: p50 800 ms, p95 1,200 ms over 2 rendered messages (event put -> rendered in the browser)"
    )
    assert push.messages_line() == (
        "board messages published: 4 = 0.2/s over 20 s (agents 1 on 1 channel (0.1/s), queues 3 on 2 channels (0.1/s))"
    )
    assert push.rendering_line() == (
        "  of which published -> rendered: p50 400 ms, p95 800 ms "
        "(the rest: delivery, state writes, streams and the board function, through the emulator)"
    )
    assert push.to_json()["latency_ms"] == {"p50": 800, "p95": 1200, "max": 1200, "rendered_messages": 2}
    assert push.to_json()["published_to_rendered_ms"] == {"p50": 400, "p95": 800}
    nobody = PushFigures.measure(publications, [], puts, seconds=20.0)
    assert nobody.latency_line() == "push latency: no rendered message to measure (no browser had the page open)"
    assert nobody.rendering_line() == ""


def test_the_pages_figures_are_its_data_values() -> None:
    # Given what the page's .value elements carry (data-value: the message's number; empty: no value)
    page = {
        "agents": [{"metric": "AGENTS_ONLINE", "queue": None, "value": "23"}],
        "queues": [
            {"metric": "SERVICE_LEVEL", "queue": "q1", "value": "87.5"},
            {"metric": "AVG_HANDLE_TIME", "queue": "q1", "value": ""},
            {"metric": "OLDEST_CONTACT_AGE", "queue": "q1", "value": "42"},
        ],
    }
    assert figures_from_page(page) == {
        (None, "AGENTS_ONLINE"): 23,
        ("q1", "SERVICE_LEVEL"): 87.5,
        ("q1", "AVG_HANDLE_TIME"): None,
        ("q1", "OLDEST_CONTACT_AGE"): 42,
    }


def test_the_simulated_clock_stands_still_until_it_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    wall = [100.0]
    monkeypatch.setattr("demo.live_board.time.monotonic", lambda: wall[0])
    clock = SimulatedClock(1_795_161_600_000)  # 2026-11-20T08:00:00Z
    wall[0] += 5
    assert clock() == "2026-11-20T08:00:00.000Z"
    clock.run_on(30)
    wall[0] += 2
    assert clock() == "2026-11-20T08:01:00.000Z"
