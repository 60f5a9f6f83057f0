"""The HTML report: one self-contained file that opens offline in any browser.

Layout: a summary (data, method, counts, metrics when truth is known), an
interactive network of the flagged clusters, one card per flagged cluster
(why it was flagged, its evidence, apps before and during the attack, top
domains and URLs with shares, a timeline, sample posts, members), and a
table of the highest-scoring clusters.

Safety, since every string from the data was written by an attacker:

- all data text is HTML-escaped (:mod:`research.report.escape`); only
  ``http(s)`` URLs become links (``rel="noopener noreferrer nofollow"``);
- the network's data is JSON in a ``<script type="application/json">`` block
  with ``<``, ``>``, ``&``, U+2028/2029 escaped, and the script inserts
  strings with ``textContent`` (or draws them on the canvas), never as HTML;
- a Content-Security-Policy allows only the page's own script and style (by
  hash) and nothing from the network, so that even a missed escape could not
  run a script or load a resource.

Sizes are bounded (:class:`ReportCaps`): the page says where it cut.
The same inputs give the same bytes (no clock, seeded layout).
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from research.graph.events import Events, encode
from research.outputs import to_json_text
from research.report.escape import json_for_script, safe_href, text
from research.report.network import NetworkCaps, network_data
from research.report.profile import ClusterProfile, Profiler, aligned_membership, explanation

# Evidence fields shown on a card, in order, with how to read them (see research.evidence).
EVIDENCE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("size", "count", "accounts judged with the group (adopters of its signature)"),
    ("n_members", "count", "of those, placed in the group's clusters by the graph"),
    ("n_attached", "count", "of those, attached by the signature alone"),
    ("n_unsigned", "count", "members of its clusters that never linked the signature"),
    ("n_pieces", "count", "clusters pooled by the signature"),
    ("score", "number", "ranking score (0-1): product of the rule's terms"),
    ("exclusivity", "share", "share of all links to the signature sites that are theirs"),
    ("span_share", "share", "share of the observed window their signature posts cover"),
    ("history", "share", "accounts with posts outside the campaign"),
    ("routine", "share", "accounts coordinated outside the campaign too"),
    ("repost_share", "share", "signature posts that are reposts"),
    ("link_reuse", "share", "signature posts whose page another of them posted"),
    ("synchrony", "share", "burstiness of the signature posts' times (1: in waves)"),
    ("templating", "share", "signature posts with a near-duplicate text"),
    ("app_lift", "share", "extra share through the top app, over their other posts"),
    ("prevalence", "share", "of the accounts active during the span, share that are in the group"),
    ("app_novelty", "share", "accounts with earlier posts that never used the top app before"),
    ("app_share", "share", "signature posts through the top app"),
    ("site_share", "share", "signature posts to the top site"),
    ("median_gap_s", "seconds", "median gap between consecutive signature posts on a site"),
    ("span_hours", "hours", "from the first to the last signature post"),
    ("n_signature_posts", "count", "posts linking the signature in the span"),
)
_SHOWN_ELSEWHERE = {
    "cluster",
    "flagged",
    "verdict",
    "reason",
    "explanation",
    "top_app",
    "top_site",
    "top_urls",
    "onset",
    "last_post",
}


@dataclass(frozen=True)
class ReportCaps:
    """Bounds that keep the page small on large data (the page says when they cut).

    Attributes
    ----------
    cards
        Cluster cards (flagged clusters, highest score first).
    members
        Members listed per card (most active during the attack first).
    posts
        Sample posts per card.
    top
        Rows of the app, domain and URL tables.
    table_rows
        Rows of the table of highest-scoring clusters.
    network_clusters
        Clusters drawn in the network view.
    network
        Members, apps and domains per drawn cluster.
    text_chars, url_chars, name_chars
        Longest post text, URL and name shown (longer ones are cut with "…").
    """

    cards: int = 50
    members: int = 200
    posts: int = 12
    top: int = 8
    table_rows: int = 25
    network_clusters: int = 30
    network: NetworkCaps = field(default_factory=NetworkCaps)
    text_chars: int = 400
    url_chars: int = 160
    name_chars: int = 80


def write_report(
    posts: Any,
    detection: Any,
    path: str | Path,
    *,
    metrics: dict[str, Any] | None = None,
    events: Events | None = None,
    caps: ReportCaps | None = None,
    title: str | None = None,
    seed: int = 0,
    progress: bool = False,
) -> Path:
    """Write the HTML report of a detection.

    Parameters
    ----------
    posts
        The posts table the detection was run on.
    detection
        A :class:`~research.pipeline.Detection` (any method: only its
        ``clusters``, ``accounts``, ``method``, ``params`` and ``seed`` are read).
    path
        The ``.html`` file to write (parent folders are created).
    metrics
        Metrics against ground truth, shown when given.
    events
        The posts' encoding, if already at hand.
    caps
        Size bounds.
    title
        Page title (default: from the counts).
    seed
        Seed of the network layout.
    progress
        Show a progress bar.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from research.simulate import simulate
    >>> from research.pipeline import run_pipeline
    >>> sim = simulate("weheartit", seed=0, n_posts=30_000)
    >>> found = run_pipeline(sim.posts, seed=0)
    >>> page = write_report(sim.posts, found, pathlib.Path(tempfile.mkdtemp()) / "report.html")
    >>> page.read_text().count('<article class="cluster-card')
    1
    """
    html_text = render_report(
        posts,
        detection,
        metrics=metrics,
        events=events,
        caps=caps,
        title=title,
        seed=seed,
        progress=progress,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_text, encoding="utf-8")
    return path


def render_report(
    posts: Any,
    detection: Any,
    *,
    metrics: dict[str, Any] | None = None,
    events: Events | None = None,
    caps: ReportCaps | None = None,
    title: str | None = None,
    seed: int = 0,
    progress: bool = False,
) -> str:
    """The report as a string (see :func:`write_report`)."""
    caps = caps or ReportCaps()
    bar = tqdm(total=4, desc="report", unit="step", disable=not progress, leave=False)
    events = events if events is not None else encode(posts)
    clusters: pd.DataFrame = detection.clusters
    accounts: pd.DataFrame = detection.accounts
    profiler = Profiler(posts, events, clusters, accounts)
    bar.update(1)

    flagged = _flagged(clusters)
    ranked = (
        flagged.sort_values(["score", "cluster"], ascending=[False, True])
        if "score" in flagged
        else flagged
    )
    carded = [int(c) for c in ranked["cluster"].head(caps.cards)]
    profiles = {c: profiler.profile(c, top=caps.top, max_posts=caps.posts) for c in carded}
    bar.update(1)

    # The network shows the flagged clusters; with none flagged, the largest clusters
    # give the reader something to look at (marked "not flagged").
    drawn = carded[: caps.network_clusters]
    context = not drawn and len(clusters) > 0
    if context:
        drawn = [
            int(c)
            for c in clusters.sort_values(["size", "cluster"], ascending=[False, True])[
                "cluster"
            ].head(3)
        ]
    drawn_profiles = [
        profiles.get(c) or profiler.profile(c, top=caps.top, max_posts=0) for c in drawn
    ]
    attached = _attached(events, accounts)
    network = network_data(
        profiler, drawn_profiles, caps=caps.network, attached=attached, seed=seed
    )
    bar.update(1)

    n_flagged = len(flagged)
    page_title = (
        title
        or f"hijack-clusters report: {n_flagged} flagged cluster{'s' if n_flagged != 1 else ''}"
    )
    body = [
        "<header>",
        f"<h1>{text(page_title)}</h1>",
        f'<p class="lede">{_lede(detection, flagged, accounts)}</p>',
        "</header>",
        "<main>",
        _summary(posts, events, detection, metrics),
        _network_section(network, context, len(carded), caps),
        _cards_section(profiles, profiler, attached, flagged, caps),
        _table_section(clusters, caps),
        "</main>",
        _footer(),
    ]
    bar.update(1)
    bar.close()
    return _page(page_title, "\n".join(body), json_for_script(network))


def _flagged(clusters: pd.DataFrame) -> pd.DataFrame:
    if len(clusters) == 0 or "flagged" not in clusters:
        return clusters.iloc[0:0]
    return clusters[clusters["flagged"].astype(bool)]


def _attached(events: Events, accounts: pd.DataFrame) -> np.ndarray:
    if "attached" not in accounts:
        return np.zeros(events.n_accounts, dtype=bool)
    frame = pd.DataFrame(
        {"account": accounts["account"], "cluster": accounts["attached"].astype(np.int64)}
    )
    return aligned_membership(events, frame) > 0


def _page(title: str, body: str, network_json: str) -> str:
    style = _asset("report.css")
    script = _asset("report.js")
    policy = (
        "default-src 'none'; "
        f"script-src '{_hash(script)}'; style-src '{_hash(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
            '<meta name="referrer" content="no-referrer">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{text(title)}</title>",
            f"<style>{style}</style>",
            "</head>",
            "<body>",
            body,
            f'<script type="application/json" id="network-data">{network_json}</script>',
            f"<script>{script}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _asset(name: str) -> str:
    return resources.files("research.report").joinpath("assets", name).read_text(encoding="utf-8")


def _hash(content: str) -> str:
    digest = hashlib.sha256(content.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _lede(detection: Any, flagged: pd.DataFrame, accounts: pd.DataFrame) -> str:
    n_flagged_accounts = int(accounts["flagged"].sum()) if "flagged" in accounts else 0
    if len(flagged) == 0:
        return (
            f"No cluster was flagged by the <code>{text(detection.method)}</code> method "
            f"among {len(accounts):,} accounts."
        )
    return (
        f"The <code>{text(detection.method)}</code> method flagged <strong>{len(flagged):,} cluster"
        f"{'s' if len(flagged) != 1 else ''}</strong> holding <strong>{n_flagged_accounts:,} account"
        f"{'s' if n_flagged_accounts != 1 else ''}</strong> as likely compromised."
    )


def _fact(label: str, value: str) -> str:
    return f"<div><dt>{text(label)}</dt><dd>{value}</dd></div>"


def _summary(posts: Any, events: Events, detection: Any, metrics: dict[str, Any] | None) -> str:
    times = events.post_time
    span = f"{_time(int(times.min()))} to {_time(int(times.max()))}" if len(times) else "no posts"
    clusters = detection.clusters
    flagged = _flagged(clusters)
    facts = [
        _fact("posts", f"{events.n_posts:,}"),
        _fact("accounts", f"{events.n_accounts:,}"),
        _fact("apps", f"{len(events.apps):,}"),
        _fact("distinct URLs", f"{len(events.urls):,}"),
        _fact("domains", f"{len(events.domains):,}"),
        _fact("time span (UTC)", text(span)),
        _fact("method", f"<code>{text(detection.method)}</code>"),
        _fact("seed", text(detection.seed)),
        _fact("clusters", f"{len(clusters):,}"),
        _fact("flagged clusters", f"{len(flagged):,}"),
        _fact(
            "flagged accounts",
            f"{int(detection.accounts['flagged'].sum()) if 'flagged' in detection.accounts else 0:,}",
        ),
    ]
    parts = [
        '<section id="summary">',
        "<h2>Summary</h2>",
        f'<dl class="facts">{"".join(facts)}</dl>',
    ]
    if metrics:
        parts.append(_metrics(metrics))
    params = to_json_text(detection.params or {})
    parts.append(
        f"<details><summary>Method parameters</summary><pre>{text(params)}</pre></details>"
    )
    parts.append("</section>")
    return "\n".join(parts)


def _metrics(metrics: dict[str, Any]) -> str:
    shown = [
        ("precision", "precision"),
        ("recall", "recall"),
        ("f1", "F1"),
        ("fpr", "benign false-positive rate"),
    ]
    facts = [
        _fact(label, _format(metrics.get(key), "share3")) for key, label in shown if key in metrics
    ]
    campaigns = metrics.get("campaign_recall") or {}
    facts += [
        _fact(f"recall of campaign {name}", _format(value, "share3"))
        for name, value in sorted(campaigns.items())
    ]
    return f'<h3>Against ground truth</h3><dl class="facts">{"".join(facts)}</dl>'


def _network_section(network: dict[str, Any], context: bool, n_cards: int, caps: ReportCaps) -> str:
    notes = []
    if context:
        notes.append("No cluster was flagged; the largest clusters are drawn for context.")
    if n_cards > caps.network_clusters:
        notes.append(
            f"The network shows the {caps.network_clusters} highest-scoring of {n_cards} flagged clusters."
        )
    cut = [c for c in network["clusters"] if c["shown"] < c["size"]]
    if cut:
        notes.append(
            f"Clusters larger than {caps.network.members_per_cluster} accounts show their "
            f"{caps.network.members_per_cluster} most active members during the attack."
        )
    note_html = "".join(f'<p class="note">{text(n)}</p>' for n in notes)
    return "\n".join(
        [
            '<section id="network-section">',
            "<h2>Network</h2>",
            '<p class="muted">Each box is a cluster: its accounts, linked to the apps they posted through and the '
            "domains they linked during the attack. Scroll to zoom, drag to pan, hover for details, click a "
            "cluster (or its button) to focus on it; Esc shows all.</p>",
            note_html,
            '<div class="controls" id="network-controls"></div>',
            '<div class="network-wrap"><canvas id="network" aria-label="network of flagged clusters"></canvas>'
            '<div class="tooltip" id="network-tooltip" hidden></div></div>',
            '<div class="legend"><span><span class="swatch flagged"></span>account in a flagged cluster</span>'
            '<span><span class="swatch other"></span>account in an unflagged cluster</span>'
            '<span><span class="swatch app"></span>app</span><span><span class="swatch domain"></span>domain</span></div>',
            '<p class="muted" id="network-status"></p>',
            '<noscript><p class="note">The network view needs JavaScript; the rest of this report does not.</p></noscript>',
            "</section>",
        ]
    )


def _cards_section(
    profiles: dict[int, ClusterProfile],
    profiler: Profiler,
    attached: np.ndarray,
    flagged: pd.DataFrame,
    caps: ReportCaps,
) -> str:
    parts = ['<section id="clusters">', "<h2>Flagged clusters</h2>"]
    if not profiles:
        parts.append('<p class="muted">No cluster was flagged.</p>')
    if len(flagged) > len(profiles):
        parts.append(
            f'<p class="note">Showing the {len(profiles)} highest-scoring of {len(flagged)} flagged clusters; '
            "all of them are in clusters.csv.</p>"
        )
    parts += [_card(profile, profiler, attached, caps) for profile in profiles.values()]
    parts.append("</section>")
    return "\n".join(parts)


def _card(
    profile: ClusterProfile, profiler: Profiler, attached: np.ndarray, caps: ReportCaps
) -> str:
    ev = profile.evidence
    cid = profile.cluster
    flagged = bool(ev.get("flagged", False))
    size = int(ev.get("size", profile.size))
    meta = [f"{size:,} accounts"]
    if "n_attached" in ev and _finite(ev["n_attached"]) and int(ev["n_attached"]) > 0:
        meta[0] += f" ({int(ev['n_attached']):,} attached by signature)"
    if _finite(ev.get("score")):
        meta.append(f"score {float(ev['score']):.2f}")
    start, end = profile.span
    meta.append(f"active {_time(start)} to {_time(end)} UTC")
    why = explanation(ev, cid, profile.size)
    parts = [
        f'<article class="cluster-card{"" if flagged else " unflagged"}" id="cluster-{cid}" data-cluster="{cid}">',
        f"<h3>Cluster {cid} {'<span class=badge>flagged</span>' if flagged else ''}</h3>",
        f'<p class="muted">{text(" · ".join(meta))}</p>',
        f'<p class="why">{text(why)}</p>',
        f'<button type="button" class="show-in-network" data-cluster="{cid}" hidden>Show in network</button>',
        '<div class="grid">',
        f"<div><h4>Evidence</h4>{_evidence_table(ev)}</div>",
        "<div>",
        f"<h4>Apps during the attack</h4>{_share_table(profile.apps, 'app', 'posts', caps)}",
        f"<h4>Apps before it (members' history)</h4>{_share_table(profile.apps_before, 'app', 'posts', caps)}",
        "</div>",
        "<div>",
        f"<h4>Domains linked during the attack</h4>{_share_table(profile.domains, 'domain', 'links', caps)}",
        f"<h4>URLs</h4>{_share_table(profile.urls, 'url', 'links', caps, links=True)}",
        "</div>",
        "</div>",
        f"<h4>Members' posts over time ({_bin_name(profile.bin_s)} bins)</h4>",
        _timeline_svg(profile, profiler),
        f"<h4>Sample posts ({len(profile.sample)} of {profile.n_span_posts:,} during the attack)</h4>",
        _posts_table(profile.sample, caps),
        _members(profile, profiler, attached, caps),
        "</article>",
    ]
    return "\n".join(parts)


def _evidence_table(ev: dict[str, Any]) -> str:
    rows = []
    known = set()
    for key, kind, meaning in EVIDENCE_FIELDS:
        known.add(key)
        if key in ev:
            rows.append(
                f'<tr><th title="{text(key)}">{text(meaning)}</th><td class="num">{_format(ev[key], kind)}</td></tr>'
            )
    if ev.get("top_app") is not None:
        rows.insert(0, f"<tr><th>top app</th><td>{text(ev['top_app'], 80)}</td></tr>")
    if ev.get("top_site") is not None:
        rows.insert(1, f'<tr><th>top site</th><td class="url">{text(ev["top_site"], 80)}</td></tr>')
    for key, value in ev.items():
        # Fields a method adds beyond the package's evidence are shown as they are.
        if key not in known and key not in _SHOWN_ELSEWHERE and not isinstance(value, list | dict):
            rows.append(
                f'<tr><th>{text(key)}</th><td class="num">{_format(value, "number")}</td></tr>'
            )
    return f"<table>{''.join(rows)}</table>"


def _share_table(
    frame: pd.DataFrame, name: str, unit: str, caps: ReportCaps, *, links: bool = False
) -> str:
    if len(frame) == 0:
        return '<p class="muted">none</p>'
    rows = []
    for label, count, share in zip(frame[name], frame[unit], frame["share"], strict=True):
        shown = "(unknown)" if label is None else label
        cell = (
            _link(shown, caps.url_chars)
            if links and label is not None
            else text(shown, caps.name_chars if not links else caps.url_chars)
        )
        rows.append(
            f'<tr><td class="{"url" if links or name == "domain" else ""}">{cell}</td>'
            f'<td class="num">{int(count):,}</td>'
            f'<td class="num">{100 * float(share):.0f}%</td>'
            f'<td><meter min="0" max="1" value="{float(share):.4f}"></meter></td></tr>'
        )
    return f'<table><tr><th>{text(name)}</th><th class="num">{text(unit)}</th><th class="num">share</th><th></th></tr>{"".join(rows)}</table>'


def _link(url: str, limit: int) -> str:
    href = safe_href(url)
    if href is None:
        return text(url, limit)
    return f'<a href="{href}" rel="noopener noreferrer nofollow" target="_blank">{text(url, limit)}</a>'


def _timeline_svg(profile: ClusterProfile, profiler: Profiler) -> str:
    frame = profile.timeline
    n = len(frame)
    width, height, left, bottom, top_pad = 760, 130, 34, 18, 8
    plot_w, plot_h = width - left - 6, height - bottom - top_pad
    peak = max(int(frame["posts"].max()) if n else 0, 1)
    bar_w = plot_w / max(n, 1)
    parts = [
        f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="posts of cluster {profile.cluster} members over time">'
    ]
    for i, (start, all_posts, top_posts) in enumerate(
        zip(frame["start"], frame["posts"], frame["top_site"], strict=True)
    ):
        if all_posts == 0:
            continue
        x = left + i * bar_w
        h_all = plot_h * math.sqrt(all_posts / peak)
        h_top = plot_h * math.sqrt(top_posts / peak)
        tip = f"{start:%Y-%m-%d %H:%M}: {int(all_posts)} posts, {int(top_posts)} to the top domain"
        parts.append(
            f'<rect class="all" x="{x:.1f}" y="{top_pad + plot_h - h_all:.1f}" width="{max(bar_w, 1.0):.1f}" '
            f'height="{h_all:.1f}"><title>{text(tip)}</title></rect>'
        )
        if top_posts:
            parts.append(
                f'<rect class="top" x="{x:.1f}" y="{top_pad + plot_h - h_top:.1f}" '
                f'width="{max(bar_w, 1.0):.1f}" height="{h_top:.1f}"></rect>'
            )
    onset = _seconds_or_none(profile.evidence.get("onset"))
    if onset is not None and n:
        x = left + (onset - profiler.t0) / profile.bin_s * bar_w
        parts.append(
            f'<line class="onset" x1="{x:.1f}" x2="{x:.1f}" y1="{top_pad}" y2="{top_pad + plot_h}"></line>'
        )
        parts.append(f'<text x="{x + 3:.1f}" y="{top_pad + 10}">onset</text>')
    if n:
        first, last = frame["start"].iloc[0], frame["start"].iloc[-1]
        parts.append(f'<text x="{left}" y="{height - 4}">{first:%Y-%m-%d}</text>')
        parts.append(
            f'<text x="{width - 6}" y="{height - 4}" text-anchor="end">{last:%Y-%m-%d}</text>'
        )
    parts.append(f'<text x="{left - 4}" y="{top_pad + 9}" text-anchor="end">{peak}</text>')
    parts.append(f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>')
    parts.append("</svg>")
    legend = (
        '<p class="muted">Grey: all posts of the members; vermillion: posts linking the top domain '
        "(bar heights on a square-root scale).</p>"
    )
    return "".join(parts) + legend


def _posts_table(sample: pd.DataFrame, caps: ReportCaps) -> str:
    if len(sample) == 0:
        return '<p class="muted">none</p>'
    rows = []
    for row in sample.itertuples(index=False):
        who = text(row.account, caps.name_chars)
        if row.account_name:
            who += f"<br><span class=muted>@{text(row.account_name, caps.name_chars)}</span>"
        links = "<br>".join(_link(u, caps.url_chars) for u in (row.urls or [])[:5])
        rows.append(
            f'<tr><td class="num">{row.time:%Y-%m-%d %H:%M:%S}</td><td>{who}</td>'
            f"<td>{text(row.app if row.app is not None else '(unknown)', caps.name_chars)}</td>"
            f'<td class="text">{text(row.text, caps.text_chars)}</td><td class="url">{links}</td></tr>'
        )
    return (
        "<table><tr><th>time (UTC)</th><th>account</th><th>app</th><th>text</th><th>links</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _members(
    profile: ClusterProfile, profiler: Profiler, attached: np.ndarray, caps: ReportCaps
) -> str:
    shown = profile.members[: caps.members]
    names = profiler.account_names(shown)
    items = []
    for code, name, count in zip(shown, names, profile.member_posts[: caps.members], strict=True):
        label = text(profiler.events.accounts[int(code)], caps.name_chars)
        if name:
            label += f" (@{text(name, caps.name_chars)})"
        label += f' <span class="muted">{int(count)} post{"s" if count != 1 else ""}'
        label += ", attached" if attached[int(code)] else ""
        items.append(f"<li>{label}</span></li>")
    count_note = (
        f"showing the {len(shown)} most active of {profile.size:,}"
        if len(shown) < profile.size
        else f"all {profile.size:,}"
    )
    return (
        f"<details><summary>Members ({count_note}; posts during the attack)</summary>"
        f'<ul class="members">{"".join(items)}</ul></details>'
    )


def _table_section(clusters: pd.DataFrame, caps: ReportCaps) -> str:
    if len(clusters) == 0:
        return ""
    order = ["score", "cluster"] if "score" in clusters else ["size", "cluster"]
    top = clusters.sort_values(order, ascending=[False, True]).head(caps.table_rows)
    columns = [
        ("cluster", "cluster", "count"), ("size", "accounts", "count"), ("top_app", "top app", "text"),
        ("top_site", "top site", "text"), ("exclusivity", "exclusivity", "share"),
        ("history", "history", "share"), ("synchrony", "synchrony", "share"),
        ("score", "score", "number"), ("verdict", "verdict", "text"), ("reason", "reason", "text"),
    ]  # fmt: skip
    columns = [c for c in columns if c[0] in top]
    head = "".join(
        f'<th class="{"num" if kind != "text" else ""}">{text(label)}</th>'
        for _, label, kind in columns
    )
    rows = []
    for _, row in top.iterrows():
        cells = []
        for key, _label, kind in columns:
            value = row[key]
            if kind == "text":
                cells.append(f"<td>{text(value, caps.name_chars)}</td>")
            else:
                cells.append(f'<td class="num">{_format(value, kind)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = f"The {len(top)} highest-scoring of {len(clusters):,} clusters; all are in clusters.csv."
    return (
        f'<section id="all-clusters"><h2>Highest-scoring clusters</h2><p class="muted">{text(note)}</p>'
        f"<table><tr>{head}</tr>{''.join(rows)}</table></section>"
    )


def _footer() -> str:
    from research.provenance import version

    return (
        f"<footer>Written by hijack-clusters {text(version())}. Every string from the data (names, texts, URLs) "
        "is shown as text; only http(s) links are clickable and they open without a referrer. "
        "This page loads nothing from the network.</footer>"
    )


def _format(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float | np.floating) and not np.isfinite(value)):
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if not isinstance(value, int | float | np.integer | np.floating):
        return text(value, 80)
    number = float(value)
    if kind == "share":
        return f"{100 * number:.0f}%"
    if kind == "share3":
        return f"{number:.3f}"
    if kind == "count":
        return f"{int(number):,}"
    if kind == "days":
        return f"{number:.1f} d"
    if kind == "seconds":
        return f"{number:.0f} s"
    return f"{number:.3g}"


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _time(seconds: int) -> str:
    return pd.Timestamp(seconds, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M")


def _bin_name(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count}-{unit}" if count != 1 else f"1-{unit}"
    return f"{seconds}-second"


def _seconds_or_none(value: Any) -> int | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    return int(stamp.timestamp()) if stamp.tzinfo else int(stamp.tz_localize("UTC").timestamp())
