"""`make demo`'s live wallboard end to end: a small simulated centre paced through the deployed stack, the board
function fed from both state tables' streams, the page open in headless Chromium (Debian's, through Playwright), and
the figures the page shows at the end compared with the simulator's (demo.board_truth). ~40 s."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.demo.test_demo import assert_server_stopped, run, summary

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("emulator")]
LATENCY = re.compile(
    r"^push latency: p50 [\d,]+ ms, p95 [\d,]+ ms over (\d+) rendered messages "
    r"\(event put -> rendered in the browser\)$",
    re.MULTILINE,
)


def test_the_page_in_a_browser_shows_the_simulators_figures_at_the_end(tmp_path: Path) -> None:
    # Given a small contact centre paced at 60 simulated seconds a second, the page open in headless Chromium
    arguments = ("--agents", "5", "--minutes", "5", "--seed", "3", "--speed", "60", "--serve-seconds", "0")
    result = run("-m", "demo.run", *arguments, "--out", str(tmp_path))
    output = result.stdout
    assert result.returncode == 0, output[-3000:] + result.stderr[-3000:]
    # Then the board's URL was printed before the traffic started
    url = re.search(r"^wallboard: http://localhost:\d+/$", output, re.MULTILINE)
    assert url is not None, output[:2000]
    assert url.start() < output.index("delivering")
    # And every figure the page shows at the end agrees with the simulator's
    figures = summary(tmp_path)["wallboard"]
    assert figures["figures_from"] == "the page in headless Chromium"
    assert re.search(r"^wallboard agreement: 100\.0% \((\d+)/\1 figures\)$", output, re.MULTILINE), output[-2000:]
    assert figures["agreement"]["total"] >= 7 + 3 * 11  # the agent counts and three queues' figures at least
    # And the pushes were rendered as they came, and timed from the put of their event
    latency = LATENCY.search(output)
    assert latency is not None, output[-2000:]
    assert int(latency.group(1)) == figures["latency_ms"]["rendered_messages"] > 0
    assert figures["published"]["agents"] > 0
    assert figures["published"]["queues"] > 0
    assert figures["console_errors"] == []
    assert (tmp_path / "wallboard.png").stat().st_size > 0
    assert_server_stopped(summary(tmp_path)["server_pid"])
