"""`make board-scale` on a small run: its figures agree with each other, and its metered tables answer what the
fakes answer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench import board_scale
from tests.fakes import InMemoryBoardRows, InMemoryBoardState

BOARDS = 7


@pytest.fixture(scope="module")
def measured() -> board_scale.Measurement:
    return board_scale.measure(agents=20, minutes=3, boards=BOARDS, seed=7)


@pytest.fixture(scope="module")
def figures(measured: board_scale.Measurement) -> dict[str, Any]:
    return board_scale.figures(measured)


def test_the_run_writes_stream_records_and_the_board_publishes(figures: dict[str, Any]) -> None:
    totals = figures["totals"]
    assert totals["streamRecords"] > 50
    assert 0 < totals["invocations"] <= totals["streamRecords"]
    assert totals["messagesPublished"] > 0
    assert figures["perSecond"]["messagesPublished"]["agents"] > 0
    assert figures["perSecond"]["messagesPublished"]["queues"] > 0


def test_an_invocation_publishes_at_most_one_message_per_channel(
    measured: board_scale.Measurement, figures: dict[str, Any]
) -> None:
    channels = 1 + measured.queues  # the agents channel and one per queue (the simulated agents have no group)
    totals = figures["totals"]
    assert totals["channelsPerInvocationMax"] <= channels
    assert totals["messagesPublished"] <= totals["invocations"] * channels
    for second in measured.seconds:
        assert second.messages["agents"] <= second.invocations


def test_every_stream_record_falls_in_one_window(measured: board_scale.Measurement) -> None:
    assert sum(sum(s.records.values()) for s in measured.seconds) == sum(measured.state_records.values())
    assert len(measured.naive_bytes) == sum(measured.state_records.values())


def test_the_naive_design_pushes_every_stream_record_to_every_board(figures: dict[str, Any]) -> None:
    totals = figures["totals"]
    assert totals["naiveMessagesDelivered"] == totals["streamRecords"] * BOARDS
    assert totals["messagesDelivered"] == totals["messagesPublished"] * BOARDS


def test_the_month_is_the_measured_rate_over_the_business_hours(
    measured: board_scale.Measurement, figures: dict[str, Any]
) -> None:
    operations = sum(s.message_operations for s in measured.seconds)
    month = board_scale.BUSINESS_SECONDS / measured.duration_seconds
    expected = operations * (1 + BOARDS) * month + BOARDS * 22 * board_scale.OPERATIONS_PER_BOARD_DAY
    assert figures["monthly"]["ours"]["appsync_operations"] == pytest.approx(expected)
    assert figures["monthly"]["oursUsd"]["appsync_operations"] == pytest.approx(expected / 1_000_000)


def test_the_metered_tables_answer_what_the_fakes_answer(measured: board_scale.Measurement) -> None:
    state, rows = measured.state, measured.rows
    queues = {c["queueArn"] for c in state.contacts.values() if "queueArn" in c}
    assert queues
    for queue_arn in sorted(queues):
        assert state.waiting_contacts(queue_arn) == InMemoryBoardState.waiting_contacts(state, queue_arn)
        for since in ("", "2026-11-20T08:01:30.000Z"):
            expected = InMemoryBoardState.enqueued_contacts(state, queue_arn, since)
            assert state.enqueued_contacts(queue_arn, since) == expected
    agents = sorted(state.agents)
    assert state.agent_items(agents) == InMemoryBoardState.agent_items(state, agents)
    contacts = sorted(state.contacts)[:50]
    assert state.contact_items(contacts) == InMemoryBoardState.contact_items(state, contacts)
    assert rows.all_rows() == InMemoryBoardRows.all_rows(rows)
    assert rows.rows(agents) == InMemoryBoardRows.rows(rows, agents)


def test_read_and_operation_units_round_up_as_billed() -> None:
    assert board_scale._read_units(0, consistent=False) == 0.5  # a Query returning nothing still costs
    assert board_scale._read_units(4096, consistent=True) == 1
    assert board_scale._read_units(4097, consistent=True) == 2
    assert board_scale._read_units(2 * 1024 * 1024, consistent=True) == 512  # two full 1 MB pages
    assert board_scale.event_operations(1) == 1
    assert board_scale.event_operations(5 * 1024) == 1
    assert board_scale.event_operations(5 * 1024 + 1) == 2
