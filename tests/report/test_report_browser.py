"""The report in a real browser: cards and network render, planted scripts do not run.

Needs Debian's ``chromium`` (``.ci/run`` installs it). Without it these tests
FAIL with the install command: a report nobody opened is not tested.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from research.report import write_report
from tests.report.conftest import TEXT_PAYLOAD

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WINDOW = (1280, 1400)


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "chromium is not installed; the report tests need it: "
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium"
        )
    return found


def _run(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # Flags that work as root in a container, with no network and no first-run noise.
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=5000",
        *extra, page.resolve().as_uri(),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def rendered(hostile, tmp_path_factory) -> tuple[str, Path, int, str]:
    """The hostile scenario's report: the DOM after scripts ran, the console, and a screenshot."""
    folder = tmp_path_factory.mktemp("browser")
    page = write_report(hostile.posts, hostile.detection, folder / "report.html")
    result = _run(page, folder / "profile-dom", "--dump-dom", "--enable-logging=stderr", "--v=0")
    dom, console = (
        result.stdout,
        "\n".join(line for line in result.stderr.splitlines() if "CONSOLE" in line),
    )
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    _run(page, folder / "profile-shot", f"--screenshot={shot}")
    return dom, shot, len(hostile.detection.flagged_clusters), console


def test_cards_render_one_per_flagged_cluster(rendered):
    dom, _shot, n_flagged, _console = rendered
    assert n_flagged >= 1
    assert len(re.findall(r'<article class="cluster-card[^"]*"', dom)) == n_flagged
    # The script ran (under the page's Content-Security-Policy) and unhid the card buttons.
    assert (
        'class="show-in-network"' in dom
        and 'class="show-in-network" data-cluster="0" hidden' not in dom
    )


def test_network_canvas_is_drawn(rendered):
    dom, shot, _, _console = rendered
    canvas = re.search(r"<canvas[^>]*>", dom).group(0)
    drawn = int(re.search(r'data-drawn-nodes="(\d+)"', canvas).group(1))
    inked = int(re.search(r'data-inked="(-?\d+)"', canvas).group(1))
    assert drawn > 10 and inked > 1000
    # Independently of what the script says: the screenshot's canvas area is not blank.
    from PIL import Image

    x, y, w, h = (float(v) for v in re.search(r'data-rect="([^"]+)"', canvas).group(1).split(","))
    assert w > 100 and h > 100 and y + h <= WINDOW[1], "the canvas must be inside the screenshot"
    pixels = np.asarray(
        Image.open(shot)
        .convert("RGB")
        .crop((int(x) + 2, int(y) + 2, int(x + w) - 2, int(y + h) - 2))
    )
    vermillion = np.all(np.abs(pixels.astype(int) - (0xD5, 0x5E, 0x00)) < 40, axis=2)
    non_white = np.any(pixels < 245, axis=2)
    assert non_white.mean() > 0.02 and vermillion.sum() > 200


def test_page_script_runs_without_errors_or_policy_violations(rendered):
    _dom, _shot, _, console = rendered
    # A script error, or anything trying to run inline code the policy does not allow, is logged here.
    assert "Uncaught" not in console and "Content Security Policy" not in console, console


def test_planted_scripts_did_not_run(rendered):
    dom, _shot, _, _console = rendered
    assert "data-pwned" not in dom.split("<body")[0]  # the root element was never marked
    assert not re.search(r"<html[^>]*data-pwned", dom)
    # The payloads are on the page, as text.
    assert "&lt;script&gt;document.documentElement.setAttribute" in dom
    assert TEXT_PAYLOAD not in dom
    assert not re.search(r"href\s*=\s*['\"]?\s*javascript:", dom, re.I)


def test_missing_chromium_fails_with_the_install_command(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        _chromium()
