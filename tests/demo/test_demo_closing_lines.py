"""What `make demo` and `make replay` print at the end, and when the capture cannot be read: the user's words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from demo.run import Figures, closing_lines

pytestmark = pytest.mark.usefixtures("no_network")
ROOT = Path(__file__).resolve().parents[2]


def demo_figures(**changes: object) -> Figures:
    figures = Figures(
        deliveries=2117,
        seconds=57.8,
        dynamodb_requests=1712,
        describe_contact_calls=188,
        invocations={"agent_events": 13, "contact_events": 40, "enrichment": 25},
        failed_messages=0,
        waiting_in_delay_queue=198,
        fallback_delay_seconds=900,
    )
    for name, value in changes.items():
        setattr(figures, name, value)
    return figures


def replay(capture: str) -> subprocess.CompletedProcess[str]:
    """`make replay FILE=<capture>`, in a process."""
    return subprocess.run(
        [sys.executable, "-m", "demo.run", "--replay", capture],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_closing_lines_name_the_functions_and_the_pending_fallbacks_in_words() -> None:
    assert closing_lines(demo_figures()) == [
        "throughput: 2,117 records in 57.8 s = 37 records/s "
        "(put, polled and handled through the emulator, one invocation at a time)",
        "DynamoDB requests: 1,712 = 0.81 per record (state writes, enrichment reads, call slots); "
        "DescribeContact calls: 188",
        "function invocations: agent events 13, contact events 40, enrichment 25; no message was handed back to retry",
        "enrichment fallbacks not yet due: 198 (each disconnected contact is looked at again 15 min after it "
        "disconnected, and enriched then only if COMPLETED has not done it; the demo ends before that)",
    ]


def test_retried_messages_and_a_finished_run_read_as_such() -> None:
    lines = closing_lines(demo_figures(failed_messages=3, waiting_in_delay_queue=0))
    assert lines[2].endswith("; 3 messages handed back by a function to be retried (see functions.log)")
    assert len(lines) == 3  # nothing pending: no fallback line
    assert not any(mark in line for line in lines for mark in "{}'")


def test_a_paced_run_says_its_throughput_is_the_pace_not_the_emulators() -> None:
    lines = closing_lines(demo_figures(speed=30.0, seconds=85.9))
    assert lines[0] == (
        "throughput: 2,117 records in 85.9 s = 25 records/s "
        "(paced at 30 simulated seconds a second; --speed 0 measures the emulator's own)"
    )


@pytest.mark.slow  # runs the demo in a process
def test_a_missing_capture_is_one_line() -> None:
    # Given `make replay FILE=missing.jsonl`
    result = replay("missing.jsonl")
    # Then one line, no traceback, and no server started
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["error: cannot read the capture missing.jsonl: No such file or directory"]


@pytest.mark.slow  # runs the demo in a process
def test_an_unreadable_capture_is_one_line(tmp_path: Path) -> None:
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"\xff\xfe binary, not JSON lines")
    result = replay(str(capture))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: cannot read the capture {capture}: not UTF-8 text (line 1)"]
