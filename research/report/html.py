"""The HTML report: one self-contained file that opens offline in any browser.

Layout: a summary (data, method, counts, metrics when truth is known), an
interactive network of the flagged clusters, one card per flagged cluster
(why it was flagged, its evidence in words, apps before and during the attack,
top domains and URLs with shares, a timeline, sample posts, and its members:
the first rows in view, all of them as a CSV download held in the page), and a
table of the highest-scoring clusters with the reason each was or was not
flagged.

The markup is in Jinja2 templates (``templates/``); this module prepares plain
data for them. Evidence is shown generically: every column of the detection's
clusters table appears, named by :mod:`research.report.fields` (the one place a
new field gets words), so that a method's new columns need no change here.

Safety, since every string from the data was written by an attacker:

- autoescape is on, and every value the templates print goes through
  :func:`research.report.escape.text` (the environment's ``finalize``), so
  escaping is the default, not a call to remember; only ``http(s)`` URLs
  become links (``rel="noopener noreferrer nofollow"``);
- the network's data is JSON in a ``<script type="application/json">`` block
  with ``<``, ``>``, ``&``, U+2028/2029 escaped, and the script inserts
  strings with ``textContent`` (or draws them on the canvas), never as HTML;
- a Content-Security-Policy allows only the page's own script and style (by
  hash) and nothing from the network, so that even a missed escape could not
  run a script or load a resource.

Sizes are bounded (:class:`ReportCaps`): the page says where it cut.
The same inputs give the same bytes (no clock, no randomness).
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup
from tqdm import tqdm

from research.graph.events import Events, encode
from research.provenance import to_json_text
from research.report.escape import clean, json_for_script, safe_href, text
from research.report.fields import FIELDS, describe, format_value
from research.report.network import NetworkCaps, network_data
from research.report.profile import ClusterProfile, Profiler, aligned_membership

#: Columns a card shows elsewhere than in its evidence table (title, meta line, why).
_SHOWN_ELSEWHERE = {
    "cluster", "flagged", "verdict", "reason", "top_urls", "onset", "first_post", "last_post",
    "explanation", "top_app", "top_site", "top_domain",
}  # fmt: skip
#: Columns of the table of highest-scoring clusters, in order, when the table has them.
_TABLE_COLUMNS = (
    "cluster", "size", "top_app", "top_site", "top_domain", "exclusivity", "history", "synchrony",
    "score", "verdict", "flagged",
)  # fmt: skip


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
    progress: bool = False,
) -> Path:
    """Write the HTML report of a detection.

    Parameters
    ----------
    posts
        The posts table the detection was run on.
    detection
        A :class:`~research.detection.Detection` (any method: only its
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
    progress: bool = False,
) -> str:
    """The report as a string (see :func:`write_report`)."""
    caps = caps or ReportCaps()
    # The step under way and the time (as the detect bar): four steps of very different length
    # make a rate meaningless.
    bar = tqdm(
        total=4, desc="report: profiles", bar_format="{desc} [{elapsed}]",
        disable=not progress, leave=False,
    )  # fmt: skip
    events = events if events is not None else encode(posts)
    clusters: pd.DataFrame = detection.clusters
    accounts: pd.DataFrame = detection.accounts
    profiler = Profiler(posts, events, clusters, accounts)
    bar.update(1)

    flagged = detection.flagged  # highest score first
    carded = [int(c) for c in flagged["cluster"].head(caps.cards)]
    profiles = {c: profiler.profile(c, top=caps.top, max_posts=caps.posts) for c in carded}
    bar.update(1)
    bar.set_description_str("report: network")

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
    network = network_data(profiler, drawn_profiles, caps=caps.network, attached=attached)
    bar.update(1)
    bar.set_description_str("report: page")

    summary = detection.summary()
    n_flagged, n_flagged_accounts = summary["n_flagged_clusters"], summary["n_flagged_accounts"]
    page_title = (
        title
        or f"hijack-clusters report: {n_flagged} flagged cluster{'s' if n_flagged != 1 else ''}"
    )
    style, script = _asset("report.css"), _asset("report.js")
    from research.provenance import version

    html_text = _template().render(
        title=page_title,
        policy=Markup(_policy(style, script)),  # our own text, with quotes that need none
        style=Markup(style),
        script=Markup(script),
        network_json=Markup(json_for_script(network)),
        method=detection.method,
        n_flagged=n_flagged,
        n_campaigns=summary["n_campaigns"],
        n_flagged_accounts=n_flagged_accounts,
        n_accounts=len(accounts),
        facts=_facts(events, detection, n_flagged, n_flagged_accounts),
        metrics=_metrics(metrics) if metrics else None,
        params=to_json_text(detection.params or {}),
        network_notes=_network_notes(network, context, len(carded), caps),
        cards=[
            _card(p, profiler, attached, accounts, caps, detection.explain(p.cluster).text)
            for p in profiles.values()
        ],
        table=_table(detection, caps),
        version=version(),
    )
    bar.update(1)
    bar.close()
    return html_text


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("research.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
    )
    environment.filters["fmt"] = format_value
    return environment.get_template("report.html.j2")


def _finalize(value: Any) -> Any:
    """Every value printed by a template: the page's own markup as it is, anything else as
    escaped text (:func:`research.report.escape.text`: control characters dropped, then
    HTML-escaped), so that no value reaches the page unescaped by default."""
    return value if isinstance(value, Markup) else Markup(text(value))


def _attached(events: Events, accounts: pd.DataFrame) -> np.ndarray:
    if "attached" not in accounts:
        return np.zeros(events.n_accounts, dtype=bool)
    frame = pd.DataFrame(
        {"account": accounts["account"], "cluster": accounts["attached"].astype(np.int64)}
    )
    return aligned_membership(events, frame) > 0


def _policy(style: str, script: str) -> str:
    return (
        "default-src 'none'; "
        f"script-src '{_hash(script)}'; style-src '{_hash(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _asset(name: str) -> str:
    return resources.files("research.report").joinpath("assets", name).read_text(encoding="utf-8")


def _hash(content: str) -> str:
    digest = hashlib.sha256(content.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _facts(
    events: Events, detection: Any, n_flagged: int, n_flagged_accounts: int
) -> list[tuple[str, str, bool]]:
    """(label, value, as code) of the summary."""
    times = events.post_time
    span = f"{_time(int(times.min()))} to {_time(int(times.max()))}" if len(times) else "no posts"
    return [
        ("posts", f"{events.n_posts:,}", False),
        ("accounts", f"{events.n_accounts:,}", False),
        ("apps", f"{len(events.apps):,}", False),
        ("distinct URLs", f"{len(events.urls):,}", False),
        ("domains", f"{len(events.domains):,}", False),
        ("time span (UTC)", span, False),
        ("method", str(detection.method), True),
        ("seed", str(detection.seed), False),
        ("clusters", f"{len(detection.clusters):,}", False),
        ("flagged clusters", f"{n_flagged:,}", False),
        ("flagged accounts", f"{n_flagged_accounts:,}", False),
    ]


def _metrics(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    shown = [
        ("precision", "precision"),
        ("recall", "recall"),
        ("f1", "F1"),
        ("fpr", "benign false-positive rate"),
    ]
    facts = [
        (label, format_value(metrics.get(key), "share3")) for key, label in shown if key in metrics
    ]
    campaigns = metrics.get("campaign_recall") or {}
    facts += [
        (f"recall of campaign {name}", format_value(value, "share3"))
        for name, value in sorted(campaigns.items())
    ]
    return facts


def _network_notes(
    network: dict[str, Any], context: bool, n_cards: int, caps: ReportCaps
) -> list[str]:
    notes = []
    if context:
        notes.append("No cluster was flagged; the largest clusters are drawn for context.")
    if n_cards > caps.network_clusters:
        notes.append(
            f"The network shows the {caps.network_clusters} highest-scoring of {n_cards} flagged clusters."
        )
    if any(c["shown"] < c["size"] for c in network["clusters"]):
        notes.append(
            f"Clusters larger than {caps.network.members_per_cluster} accounts show their "
            f"{caps.network.members_per_cluster} most active members during the attack."
        )
    return notes


def _card(
    profile: ClusterProfile,
    profiler: Profiler,
    attached: np.ndarray,
    accounts: pd.DataFrame,
    caps: ReportCaps,
    why: str,
) -> dict[str, Any]:
    ev = profile.evidence
    size = int(ev.get("size", profile.size))
    meta = [f"{size:,} accounts"]
    if "n_attached" in ev and _finite(ev["n_attached"]) and int(ev["n_attached"]) > 0:
        meta[0] += f" ({int(ev['n_attached']):,} attached by signature)"
    if _finite(ev.get("score")):
        meta.append(f"score {float(ev['score']):.2f}")
    start, end = profile.span
    meta.append(f"active {_time(start)} to {_time(end)} UTC")
    return {
        "id": profile.cluster,
        "flagged": bool(ev.get("flagged", False)),
        "meta": " · ".join(meta),
        "why": why,
        "evidence": _evidence_rows(ev, caps),
        "apps": _share_rows(profile.apps, "app", "posts", caps),
        "apps_before": _share_rows(profile.apps_before, "app", "posts", caps),
        "domains": _share_rows(profile.domains, "domain", "links", caps),
        "urls": _share_rows(profile.urls, "url", "links", caps, links=True),
        "bin_name": _bin_name(profile.bin_s),
        "timeline": _timeline(profile, profiler),
        "n_span_posts": profile.n_span_posts,
        "posts": _posts(profile.sample, caps),
        "members": _members(profile, profiler, attached, accounts, caps),
    }


def _evidence_rows(ev: dict[str, Any], caps: ReportCaps) -> list[dict[str, str]]:
    """The cluster's row as words: the top app and domain, then every other column in the order
    of :data:`research.report.fields.FIELDS`, then columns it does not know, as they come."""
    known = [name for name in FIELDS if name in ev]
    others = [name for name in ev if name not in FIELDS]
    rows = []
    for name in ["top_app", "top_site", "top_domain"] + [
        n for n in known + others if n not in _SHOWN_ELSEWHERE
    ]:
        value = ev.get(name)
        if name not in ev or value is None or isinstance(value, list | dict | np.ndarray):
            continue
        kind = describe(name).kind
        rows.append(
            {
                "name": name,
                "words": describe(name).words,
                "value": clean(format_value(value, kind), caps.name_chars),
                "align": "url"
                if name in ("top_site", "top_domain")
                else ""
                if kind == "text"
                else "num",
            }
        )
    return rows


def _share_rows(
    frame: pd.DataFrame, name: str, unit: str, caps: ReportCaps, *, links: bool = False
) -> dict[str, Any]:
    rows = []
    for label, count, share in zip(frame[name], frame[unit], frame["share"], strict=True):
        rows.append(
            {
                "label": "(unknown)"
                if label is None
                else clean(label, caps.url_chars if links else caps.name_chars),
                "href": _target(label) if links else None,
                "count": int(count),
                "percent": f"{100 * float(share):.0f}%",
                "share": f"{float(share):.4f}",
            }
        )
    return {
        "name": name,
        "unit": unit,
        "rows": rows,
        "cell_class": "url" if links or name == "domain" else "",
    }


def _target(url: Any) -> str | None:
    """The URL itself when it may be a link (``http(s)`` with a host), else ``None``; the
    template escapes it."""
    return url if safe_href(url) is not None else None


def _timeline(profile: ClusterProfile, profiler: Profiler) -> dict[str, Any]:
    frame = profile.timeline
    n = len(frame)
    width, height, left, bottom, top_pad = 760, 130, 34, 18, 8
    plot_w, plot_h = width - left - 6, height - bottom - top_pad
    peak = max(int(frame["posts"].max()) if n else 0, 1)
    bar_w = plot_w / max(n, 1)
    bars = []
    for i, (start, all_posts, top_posts) in enumerate(
        zip(frame["start"], frame["posts"], frame["top_site"], strict=True)
    ):
        if all_posts == 0:
            continue
        x = left + i * bar_w
        h_all = plot_h * math.sqrt(all_posts / peak)
        h_top = plot_h * math.sqrt(top_posts / peak)
        bars.append(
            {
                "x": f"{x:.1f}",
                "w": f"{max(bar_w, 1.0):.1f}",
                "y_all": f"{top_pad + plot_h - h_all:.1f}",
                "h_all": f"{h_all:.1f}",
                "y_top": f"{top_pad + plot_h - h_top:.1f}",
                "h_top": f"{h_top:.1f}" if top_posts else None,
                "tip": f"{start:%Y-%m-%d %H:%M}: {int(all_posts)} posts, {int(top_posts)} to the top domain",
            }
        )
    onset = _seconds_or_none(profile.evidence.get("onset"))
    onset_x = left + (onset - profiler.t0) / profile.bin_s * bar_w if onset is not None else None
    return {
        "cluster": profile.cluster,
        "width": width,
        "height": height,
        "left": left,
        "top": top_pad,
        "bottom": top_pad + plot_h,
        "bars": bars,
        "onset": f"{onset_x:.1f}" if onset_x is not None and n else None,
        "onset_label": f"{onset_x + 3:.1f}" if onset_x is not None and n else None,
        "first": f"{frame['start'].iloc[0]:%Y-%m-%d}" if n else None,
        "last": f"{frame['start'].iloc[-1]:%Y-%m-%d}" if n else None,
        "peak": peak,
    }


def _posts(sample: pd.DataFrame, caps: ReportCaps) -> list[dict[str, Any]]:
    return [
        {
            "time": f"{row.time:%Y-%m-%d %H:%M:%S}",
            "account": clean(row.account, caps.name_chars),
            "name": clean(row.account_name, caps.name_chars) if row.account_name else None,
            "app": clean(row.app if row.app is not None else "(unknown)", caps.name_chars),
            "text": clean(row.text, caps.text_chars),
            "links": [
                {"label": clean(url, caps.url_chars), "href": _target(url)}
                for url in (row.urls or [])[:5]
            ],
        }
        for row in sample.itertuples(index=False)
    ]


def _members(
    profile: ClusterProfile,
    profiler: Profiler,
    attached: np.ndarray,
    accounts: pd.DataFrame,
    caps: ReportCaps,
) -> dict[str, Any]:
    """The first members in view and all of them as a CSV held in the page (a ``data:`` URL:
    it downloads without a network, a server or a script)."""
    ids = [str(profiler.events.accounts[int(code)]) for code in profile.members]
    names = profiler.account_names(profile.members)
    items = [
        {
            "account": clean(account, caps.name_chars),
            "name": clean(name, caps.name_chars) if name else None,
            "posts": int(count),
            "attached": bool(attached[int(code)]),
        }
        for account, name, count, code in zip(
            ids[: caps.members],
            names[: caps.members],
            profile.member_posts[: caps.members],
            profile.members[: caps.members],
            strict=True,
        )
    ]
    n = len(profile.members)
    note = f"showing the {len(items)} most active of {n:,}" if len(items) < n else f"all {n:,}"
    table = pd.DataFrame(
        {"account": ids, "account_name": names, "posts_during_attack": profile.member_posts}
    )
    # The verdict's own columns, whatever the method wrote (cluster, flagged, score, attached...).
    verdicts = accounts.assign(account=accounts["account"].astype(str)).drop_duplicates("account")
    table = table.merge(verdicts, on="account", how="left", sort=False)
    csv_text = table.to_csv(index=False, lineterminator="\n", float_format="%.6f")
    return {
        "note": note,
        "listed": items,
        "size": n,
        "csv_name": f"cluster-{profile.cluster}-members.csv",
        "csv_href": "data:text/csv;charset=utf-8," + quote(csv_text, safe=""),
    }


def _table(detection: Any, caps: ReportCaps) -> dict[str, Any] | None:
    """The highest-scoring clusters, with the reason for each verdict: the cluster row's own
    ``reason`` when the method writes one, else its sentence (folded)."""
    clusters: pd.DataFrame = detection.clusters
    if len(clusters) == 0:
        return None
    order = ["score", "cluster"] if "score" in clusters else ["size", "cluster"]
    top = clusters.sort_values(order, ascending=[False, True]).head(caps.table_rows)
    names = [name for name in _TABLE_COLUMNS if name in top]
    names.append("reason" if "reason" in top else "explanation")
    columns = [
        {
            "name": name,
            "label": describe(name).label,
            "tip": f"{describe(name).words} ({name})",
            "align": _table_class(name),
        }
        for name in names
    ]
    rows = []
    for _, row in top.iterrows():
        cells = [
            {
                "value": clean(format_value(row[name], describe(name).kind), caps.name_chars),
                "align": _table_class(name),
                "details": None,
            }
            for name in names[:-1]
        ]
        cells.append(_reason_cell(row, detection))
        rows.append(cells)
    note = f"The {len(top)} highest-scoring of {len(clusters):,} clusters; all are in clusters.csv."
    return {"columns": columns, "rows": rows, "note": note}


def _reason_cell(row: pd.Series, detection: Any) -> dict[str, Any]:
    reason = row.get("reason")
    if isinstance(reason, str) and reason:
        return {"value": reason, "align": "reason", "details": None}
    return {
        "value": "why",
        "align": "reason",
        "details": detection.explain(int(row["cluster"])).text,
    }


def _table_class(name: str) -> str:
    """Numbers right-aligned; names on one line (cut with an ellipsis); reasons wrap."""
    if name in ("reason", "explanation"):
        return "reason"
    return "name" if describe(name).kind == "text" else "num"


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
