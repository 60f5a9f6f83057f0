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
    return dom, shot, len(hostile.detection.flagged), console


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


# --- labels that do not overlap, members in view -------------------------------------------------


def _dom(page: Path, profile: Path) -> str:
    return _run(page, profile, "--dump-dom").stdout


Box = tuple[int, float, float, float, float]


def _boxes(dom: str, what: str = "label") -> list[Box]:
    """What the page drew on the network canvas: labels or app/domain markers, as
    (node, x, y, width, height) in px."""
    canvas = re.search(r"<canvas[^>]*>", dom).group(0)
    raw = re.search(rf'data-{what}-boxes="([^"]*)"', canvas).group(1)
    boxes = [tuple(float(v) for v in item.split(",")) for item in raw.split(";") if item]
    return [(int(b[0]), b[1], b[2], b[3], b[4]) for b in boxes]


def _label_boxes(dom: str) -> list[Box]:
    return _boxes(dom, "label")


def _hits(a: Box, b: Box) -> bool:
    _, ax, ay, aw, ah = a
    _, bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _overlapping(boxes: list[Box], others: list[Box] | None = None) -> list[tuple[int, int]]:
    """Pairs of boxes that overlap: within ``boxes``, or (with ``others``) a box of ``boxes``
    over one of ``others`` that is not its own node's."""
    if others is None:
        return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if _hits(a, b)]
    return [(a[0], b[0]) for a in boxes for b in others if a[0] != b[0] and _hits(a, b)]


def _network_of(page: Path) -> dict:
    import json

    block = re.search(
        r'<script type="application/json" id="network-data">(.*?)</script>', page.read_text(), re.S
    )
    return json.loads(block.group(1))


def test_network_labels_do_not_overlap_and_the_top_ones_are_drawn(small, tmp_path):
    page = write_report(small.posts, small.detection, tmp_path / "report.html")
    dom = _dom(page, tmp_path / "profile")
    boxes, markers = _label_boxes(dom), _boxes(dom, "marker")
    network = _network_of(page)
    labels = network["nodes"]["label"]
    # No label over another, nor over another app's or domain's marker; no two markers on
    # one spot (the old layout stacked the top app and the top domains in the middle).
    assert boxes and not _overlapping(boxes)
    assert not _overlapping(boxes, markers) and not _overlapping(markers)
    drawn = {labels[node] for node, *_ in boxes}
    # Every app and domain of the one flagged cluster has room: all are labelled, top ones too.
    hubs = [i for i, kind in enumerate(network["nodes"]["kind"]) if kind != 0]
    assert drawn == {labels[i] for i in hubs}
    row = small.detection.flagged.iloc[0]
    assert {row["top_app"], row["top_site"]} <= drawn


def test_network_labels_do_not_overlap_when_many_clusters_are_drawn(small, tmp_path):
    """Thirty clusters in one view: labels that have no room are left to the hover tooltip."""
    from dataclasses import replace

    clusters = small.detection.clusters
    busiest = clusters.sort_values(["size", "cluster"], ascending=[False, True])["cluster"].head(30)
    crowded = replace(
        small.detection, clusters=clusters.assign(flagged=clusters["cluster"].isin(busiest))
    )
    page = write_report(small.posts, crowded, tmp_path / "report.html")
    dom = _dom(page, tmp_path / "profile")
    boxes, markers = _label_boxes(dom), _boxes(dom, "marker")
    network = _network_of(page)
    assert len(network["clusters"]) == 30
    assert len(boxes) >= 30 and not _overlapping(boxes) and not _overlapping(boxes, markers)
    # The most used app or domain of a cluster is labelled before any cluster's second one.
    ranks = [network["nodes"]["rank"][node] for node, *_ in boxes]
    assert ranks == sorted(ranks)


def test_member_list_is_in_view_without_a_click(small, tmp_path):
    from PIL import Image

    page = write_report(small.posts, small.detection, tmp_path / "report.html")
    dom = _dom(page, tmp_path / "profile-dom")
    box = re.search(
        r'<div class="members-box"[^>]*data-rect="([^"]+)" data-first-shown="(\w+)"', dom
    )
    assert box, "the member list is not on the page"
    # The browser's own answer (checkVisibility: false inside a closed <details>)...
    assert box.group(2) == "true", "the first member is not rendered"
    x, y, w, h = (float(v) for v in box.group(1).split(","))
    assert w > 300 and h > 150, "the member list is collapsed"
    # ... and the pixels: a screenshot tall enough to hold the list has text where it is.
    shot = tmp_path / "members.png"
    height = int(y + h + 40)
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile-shot'}", f"--window-size={WINDOW[0]},{height}",
        "--virtual-time-budget=5000", f"--screenshot={shot}", page.resolve().as_uri(),
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)
    pixels = np.asarray(
        Image.open(shot).convert("L").crop((int(x) + 4, int(y) + 4, int(x + w) - 4, int(y + h) - 4))
    )
    dark_rows = (pixels < 140).any(axis=1)
    assert dark_rows.mean() > 0.3, "no text where the member list should show"
