"""The HTML report: content, escaping of attacker-written data, bounded size, stable bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace

import numpy as np

from research.report import ReportCaps, render_report, write_report
from research.report.escape import clean, json_for_script, safe_href, text
from research.report.network import NetworkCaps
from tests.report.conftest import APP_PAYLOAD, NAME_PAYLOAD, TEXT_PAYLOAD, URL_PAYLOAD

NETWORK_BLOCK = re.compile(
    r'<script type="application/json" id="network-data">(.*?)</script>', re.S
)


def _network(page: str) -> dict:
    return json.loads(NETWORK_BLOCK.search(page).group(1))


def test_one_card_per_flagged_cluster_with_its_evidence(small):
    page = render_report(small.posts, small.detection)
    flagged = small.detection.flagged_clusters
    assert page.count('<article class="cluster-card') == len(flagged) == 1
    card = page[page.index('<article class="cluster-card') :]
    # Why (the explanation), the top app with its share, the top domain, a timeline, sample posts, members.
    assert (
        "is flagged:" in card
        and "We Heart It" in card
        and "slim-secret-today-diet-pills.com" in card
    )
    assert '<svg class="timeline"' in card and "Sample posts" in card and "Members (" in card
    network = _network(page)
    assert [c["id"] for c in network["clusters"]] == flagged["cluster"].tolist()
    # The network shows the cluster's accounts around its app and domains.
    kinds = np.bincount(network["nodes"]["kind"], minlength=3)
    assert kinds[0] == flagged["size"].iloc[0] and kinds[1] >= 1 and kinds[2] >= 1
    assert "We Heart It" in network["nodes"]["label"]


def test_report_is_byte_stable(small, tmp_path):
    first = write_report(small.posts, small.detection, tmp_path / "a.html").read_bytes()
    second = write_report(small.posts, small.detection, tmp_path / "b.html").read_bytes()
    assert first == second


def test_hostile_strings_are_text_never_markup(hostile):
    page = render_report(hostile.posts, hostile.detection)
    assert hostile.detection.flagged_clusters["top_app"].tolist() == [APP_PAYLOAD]
    # Only the page's own two script elements exist; no payload survives as markup.
    assert page.count("<script") == 2
    for payload in (TEXT_PAYLOAD, APP_PAYLOAD, NAME_PAYLOAD, "<img src=x", "<!--"):
        assert payload not in page
    assert text(TEXT_PAYLOAD, 400) in page and text(APP_PAYLOAD, 80) in page
    # The javascript: URL is listed, as text, never as a link.
    assert text(URL_PAYLOAD, 160) in page
    assert not re.search(r"href\s*=\s*['\"]?\s*javascript:", page, re.I)
    # The network's data block cannot be closed from inside, and still holds the names.
    block = NETWORK_BLOCK.search(page).group(1)
    assert "<" not in block and ">" not in block and "\u2028" not in block
    assert any(APP_PAYLOAD in label for label in json.loads(block)["nodes"]["label"])


def test_content_security_policy_allows_only_the_pages_own_script_and_style(small):
    page = render_report(small.posts, small.detection)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)

    def digest(content: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()

    assert "default-src 'none'" in policy
    assert f"script-src '{digest(script)}'" in policy and f"style-src '{digest(style)}'" in policy
    # Self-contained: nothing is fetched from anywhere.
    assert not re.search(
        r"""(src|href)=["']?(https?:)?//""", page.replace('target="_blank"', "").split("<main>")[0]
    )


def test_caps_bound_the_page_and_say_so(small):
    caps = ReportCaps(members=10, posts=3, network=NetworkCaps(members_per_cluster=20))
    page = render_report(small.posts, small.detection, caps=caps)
    size = int(small.detection.flagged_clusters["size"].iloc[0])
    assert f"showing the 10 most active of {size}" in page
    assert (
        page.count('<ul class="members">') == 1
        and page.split('<ul class="members">')[1].split("</ul>")[0].count("<li>") == 10
    )
    assert "Sample posts (3 of" in page
    assert "Clusters larger than 20 accounts show their 20 most active members" in page
    assert np.bincount(_network(page)["nodes"]["kind"])[0] == 20
    assert len(page) < len(render_report(small.posts, small.detection))


def test_no_flagged_cluster_draws_the_largest_for_context(small):
    quiet = replace(
        small.detection,
        clusters=small.detection.clusters.assign(flagged=False),
        accounts=small.detection.accounts.assign(flagged=False),
    )
    page = render_report(small.posts, quiet)
    assert page.count('<article class="cluster-card') == 0 and "No cluster was flagged" in page
    clusters = _network(page)["clusters"]
    assert 1 <= len(clusters) <= 3 and not any(c["flagged"] for c in clusters)


def test_escape_helpers():
    assert text("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#x27;"
    assert clean("a\x00\x1b\x7fb\ud800") == "ab"
    assert (
        json_for_script(["</script>", "\u2028", "&"])
        == '["\\u003c/script\\u003e","\\u2028","\\u0026"]'
    )
    assert json.loads(json_for_script({"x": "</script>\u2029"})) == {"x": "</script>\u2029"}
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "java\tscript:alert(1)", "data:text/html,<b>",
                "vbscript:x", "//evil.com/x", " http://x.com", "http:///nohost", None, 3):  # fmt: skip
        assert safe_href(bad) is None, bad
    assert safe_href("http://x.com/a?b=<c>") == "http://x.com/a?b=&lt;c&gt;"


def test_any_methods_detection_renders_with_its_own_columns(small):
    """A method with other evidence (a baseline): only cluster, size, flagged; an extra column."""
    full = small.detection
    clusters = full.clusters[["cluster", "size", "flagged"]].assign(burstiness=0.25)
    other = replace(
        full,
        method="baseline_x",
        params={"k": 1},
        clusters=clusters,
        accounts=full.accounts[["account", "cluster", "flagged"]],
    )
    page = render_report(small.posts, other)
    card = page[page.index('<article class="cluster-card') :]
    assert page.count('<article class="cluster-card') == 1
    assert f"Cluster 0 ({int(clusters['size'].iloc[0])} accounts) is flagged." in card
    assert (
        "burstiness" in card and "We Heart It" in card
    )  # the profile still shows what the cluster did
