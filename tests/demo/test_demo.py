"""`make demo` and `make replay` in small: the real stack deployed into a fresh moto server, a simulated contact centre
(or its capture) driven through it, every item compared with the ground truth, the server stopped. ~20 s each, as
fast as the emulator goes (`--speed 0`) and without serving the wallboard afterwards (`--serve-seconds 0`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("emulator")]
ROOT = Path(__file__).resolve().parents[2]
AT_ONCE = ("--speed", "0", "--serve-seconds", "0")


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    """In a fresh interpreter, as `make demo` runs it: the handlers' per-container caches start empty."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    command = [sys.executable, *arguments]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600, check=False)


def summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text())  # type: ignore[no-any-return]


def assert_server_stopped(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_small_demo_agrees_with_its_ground_truth_and_stops_the_server(tmp_path: Path) -> None:
    # When a small contact centre is simulated and driven through the deployed stack
    arguments = ("--agents", "4", "--minutes", "8", "--seed", "11", "--no-browser", *AT_ONCE)
    result = run("-m", "demo.run", *arguments, "--out", str(tmp_path))
    # Then every agent and contact item agrees with the ground truth, enrichment included
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = summary(tmp_path)
    assert figures["agreement"]["perfect"] is True
    assert "ground truth: agreement 100.0%" in result.stdout
    # And so does every figure of the live board (read from its snapshot: no browser here)
    assert figures["wallboard"]["figures_from"] == "the board's snapshot"
    assert figures["wallboard"]["agreement"]["perfect"] is True
    assert figures["describe_contact_calls"] > 0
    assert figures["failed_messages"] == 0
    assert figures["dynamodb_requests"] > 0
    assert_server_stopped(figures["server_pid"])


def test_a_capture_replays_through_the_same_path(tmp_path: Path) -> None:
    # Given a capture written by the simulator (with its truth file beside it)
    capture = tmp_path / "capture.jsonl"
    written = run("-m", "demo.simulate", "--agents", "3", "--minutes", "6", "--seed", "5", "--out", str(capture))
    assert written.returncode == 0, written.stderr
    # When it is replayed
    out = tmp_path / "out"
    result = run("-m", "demo.run", "--replay", str(capture), "--no-browser", *AT_ONCE, "--out", str(out))
    # Then it goes through the deployed stack and ends where the truth says
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"replaying {len(capture.read_text().splitlines())} records" in result.stdout
    assert summary(out)["agreement"]["perfect"] is True
    assert summary(out)["wallboard"]["agreement"]["perfect"] is True  # the same centre, simulated again from its seed
    assert_server_stopped(summary(out)["server_pid"])
