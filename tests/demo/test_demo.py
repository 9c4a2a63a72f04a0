"""`make demo` and `make replay` in small: the real stack deployed into a fresh moto server, a simulated contact centre
(or its capture) driven through it, every item compared with the ground truth, the server stopped. ~20 s each."""

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
    result = run("-m", "demo.run", "--agents", "4", "--minutes", "8", "--seed", "11", "--out", str(tmp_path))
    # Then every agent and contact item agrees with the ground truth, enrichment included
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = summary(tmp_path)
    assert figures["agreement"]["perfect"] is True
    assert "ground truth: agreement 100.0%" in result.stdout
    assert "wallboard" in result.stdout
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
    result = run("-m", "demo.run", "--replay", str(capture), "--out", str(out))
    # Then it goes through the deployed stack and ends where the truth says
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"replaying {len(capture.read_text().splitlines())} records" in result.stdout
    assert summary(out)["agreement"]["perfect"] is True
    assert_server_stopped(summary(out)["server_pid"])
