"""The HTML report: content, escaping of attacker-written data, bounded size, stable bytes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from dataclasses import replace

import numpy as np
import pandas as pd

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
    flagged = small.detection.flagged
    assert page.count('<article class="cluster-card') == len(flagged) == 1
    card = page[page.index('<article class="cluster-card') :]
    # Why (the explanation), the top app with its share, the top domain, a timeline, sample posts, members.
    assert (
        "is compromised (score" in card
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
    assert hostile.detection.flagged["top_app"].tolist() == [APP_PAYLOAD]
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
    size = int(small.detection.flagged["size"].iloc[0])
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


# --- the evidence in words, the reasons, the member list --------------------------------------


def _card(page: str) -> str:
    start = page.index('<article class="cluster-card')
    return page[start : page.index("</article>", start)]


def test_evidence_is_in_words_with_the_field_name_in_a_tooltip(small):
    from research.report.fields import describe

    card = _card(render_report(small.posts, small.detection))
    row = small.detection.flagged.iloc[0]
    assert '<th title="n_adopters">accounts judged with it (they pushed its signature)</th>' in card
    assert (
        '<th title="exclusivity">share of all links to the signature&#x27;s sites that are theirs</th>'
        in card
    )
    assert '<th title="history">accounts with posts outside the campaign</th>' in card
    from research.report.html import _SHOWN_ELSEWHERE as shown

    for name in row.index:
        if name not in shown:
            assert f'<th title="{name}">{text(describe(name).words)}</th>' in card, name
    # No raw field name is a heading any more.
    assert not re.search(r"<th>[a-z]+_[a-z_]+</th>", card)


def test_a_methods_new_columns_show_without_code_changes(small):
    """A reason column and any other field a method adds show without code changes."""
    from research.report.fields import describe

    detection = small.detection
    clusters = detection.clusters.assign(
        verdict=np.where(detection.clusters["flagged"], "compromised", "none"),
        reason=[f"exclusivity {e:.2f} {'≥' if f else '<'} 0.50"
                for e, f in zip(detection.clusters["exclusivity"], detection.clusters["flagged"], strict=True)],
        new_measure=0.25,
    )  # fmt: skip
    page = render_report(small.posts, replace(detection, clusters=clusters))
    card = _card(page)
    assert '<th title="new_measure">new measure</th><td class="num">0.25</td>' in card
    table = page[page.index('<section id="all-clusters">') :]
    words = describe("reason")
    assert (
        f'<th class="reason" title="{text(words.words)} (reason)">{text(words.label)}</th>' in table
    )
    unflagged = clusters[~clusters["flagged"]].sort_values(
        ["score", "cluster"], ascending=[False, True]
    )
    for reason in unflagged["reason"].head(5):
        assert f'<td class="reason">{text(reason)}</td>' in table
    assert '<td class="name">none</td>' in table and "<details>" not in table


def test_without_a_reason_column_the_table_folds_each_clusters_sentence(small):
    detection = replace(small.detection, clusters=small.detection.clusters.drop(columns="reason"))
    page = render_report(small.posts, detection)
    table = page[page.index('<section id="all-clusters">') :]
    top = small.detection.clusters.sort_values(["score", "cluster"], ascending=[False, True])
    second = int(top["cluster"].iloc[1])
    assert f"<details><summary>why</summary>Cluster {second} (" in table
    assert table.count("<details>") == min(len(top), ReportCaps().table_rows)


def _members_csv(card: str) -> pd.DataFrame:
    from urllib.parse import unquote

    href = re.search(r'<a class="download" href="data:text/csv;charset=utf-8,([^"]*)"', card).group(
        1
    )
    return pd.read_csv(io.StringIO(unquote(href)), dtype={"account": str})


def test_member_list_is_open_and_every_member_downloads_as_csv_from_the_page(small):
    caps = ReportCaps(members=10)
    card = _card(render_report(small.posts, small.detection, caps=caps))
    size = int(small.detection.flagged["size"].iloc[0])
    # Open: the list is not inside a <details> (which the old page kept closed).
    before = card[: card.index('<ul class="members">')]
    assert before.count("<details") == before.count("</details>")
    assert f"Download all {size:,} members (CSV)</a>" in card
    assert 'download="cluster-0-members.csv"' in card
    members = _members_csv(card)
    assert len(members) == size and members["account"].is_unique
    assert list(members.columns[:3]) == ["account", "account_name", "posts_during_attack"]
    assert {"cluster", "flagged", "score", "attached", "unsigned"} <= set(members.columns)
    accounts = small.detection.accounts
    assert set(members["account"]) == set(
        accounts.loc[accounts["cluster"] == 0, "account"].astype(str)
    )
    # The listed ten are the CSV's first ten (most active first), ids on one line.
    listed = re.findall(r'<li><span class="account">([^<]*)</span>', card)
    assert listed == members["account"].head(10).tolist()


def test_account_ids_do_not_wrap(small):
    page = render_report(small.posts, small.detection)
    assert re.search(r"\.account \{ white-space: nowrap;", page)
    posts = page[page.index("Sample posts") :]
    assert re.search(
        r'<td><span class="account">\d+</span><br><span class="muted account">@', posts
    )


def test_hostile_names_stay_text_in_the_download_too(hostile):
    card = _card(render_report(hostile.posts, hostile.detection))
    href = re.search(r'<a class="download" href="([^"]*)"', card).group(1)
    assert "<" not in href and ">" not in href and '"' not in href
    members = _members_csv(card)
    assert NAME_PAYLOAD in set(members["account_name"])  # verbatim in the file, as in accounts.csv
