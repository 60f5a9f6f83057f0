"""What each column of a clusters table means, in words: the one place a new field gets them.

The report shows a cluster's evidence as words (the field's name in a tooltip),
formats its values by kind, and lists the columns of the table of clusters by
these words. Any method's columns work: a field without an entry here is shown
under its own name, and a contract test (``tests/report/test_fields.py``) asks
for words for every column a registered method writes.

Kinds: ``count`` (an integer), ``share`` (0-1, shown as a percentage),
``number``, ``days``, ``seconds``, ``time`` (a timestamp, UTC), ``flag`` (yes/no),
``text`` (a string from the data or the method), ``list``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Field:
    """How a column is named for a reader and how its values are written.

    ``words`` name it where there is room (a card's evidence); ``short``, when given, heads a
    table column (the words and the field's name are then its tooltip).
    """

    words: str
    kind: str = "number"
    short: str | None = None

    @property
    def label(self) -> str:
        """The column heading: ``short`` if given, else the words."""
        return self.short or self.words


#: Every known column of a clusters table, in the order a card's evidence lists them.
FIELDS: dict[str, Field] = {
    # Who and what.
    "cluster": Field("cluster", "count"),
    "verdict": Field("verdict (compromised, coordinated or none)", "text", "verdict"),
    "ladder_verdict": Field(
        "the verdict ladder's own verdict, where a learned rule judged the top rung (method learned)",
        "text",
        "ladder's verdict",
    ),
    "reason": Field(
        "the rule's terms that failed, against their thresholds", "text", "why (not) compromised"
    ),
    "campaign": Field(
        "campaign: compromised groups sharing their victims (-1: not compromised)", "count"
    ),
    "top_app": Field("top app of the signature posts", "text", "top app"),
    "top_site": Field("top signature site (a domain, or a short link)", "text", "top site"),
    "top_domain": Field("top domain", "text"),
    "size": Field("accounts listed in the cluster", "count", "accounts"),
    "n_adopters": Field("accounts judged with it (they pushed its signature)", "count", "judged"),
    "n_members": Field("of those, placed in its clusters by the graph", "count"),
    "n_attached": Field("of those, attached by the signature alone", "count"),
    "n_unsigned": Field(
        "members of its clusters that never pushed the signature (not judged)", "count"
    ),
    "n_pieces": Field("graph clusters pooled by the signature", "count"),
    "n_sites": Field("sites in the signature", "count"),
    "n_signature_posts": Field("posts linking the signature", "count"),
    "score": Field("ranking score (0-1): the product of the rule's terms", "number", "score"),
    "stability": Field("runs that found this cluster (consensus)", "share"),
    # The rule's terms.
    "exclusivity": Field(
        "share of all links to the signature's sites that are theirs", "share", "exclusivity"
    ),
    "outside": Field(
        "accounts that linked the signature's sites before or after them (an established site)",
        "count",
        "outside",
    ),
    "span_share": Field(
        "share of the observed window from their first signature post to their last",
        "share",
        "span",
    ),
    "active_share": Field(
        "share of the observed window their signature posts are active in (pauses between waves capped)",
        "share",
        "active",
    ),
    "duty": Field(
        "share of their own span their signature posts are active in (pauses between waves capped)",
        "share",
        "duty",
    ),
    "history": Field("accounts with posts outside the campaign", "share", "history"),
    "routine": Field("accounts coordinated outside the campaign too", "share", "routine"),
    "repost_share": Field("signature posts that are reposts", "share", "reposts"),
    "link_reuse": Field("signature posts whose page another of them posted", "share", "reuse"),
    "coarse_share": Field(
        "signature links on coarse sites (a shortener's or host's, by app)", "share"
    ),
    "burst_share": Field(
        "signature links on bursts of coarse sites (tenfold their usual rate)", "share"
    ),
    "text_share": Field(
        "signature links on text sites (small sites' links meeting in their posts' template)",
        "share",
    ),
    "concert": Field(
        "strongest sign of acting in concert, over its threshold", "number", "concert"
    ),
    "synchrony": Field(
        "burstiness of the signature posts' times (1: in waves)", "share", "synchrony"
    ),
    "templating": Field("signature posts with a near-duplicate text", "share"),
    "app_lift": Field("extra share through the top app, over their other posts", "share"),
    "prevalence": Field("of the accounts active during the span, share in the group", "share"),
    # Description.
    "app_share": Field("signature posts through the top app", "share"),
    "app_novelty": Field("accounts with earlier posts that never used the top app before", "share"),
    "site_share": Field("signature posts to the top site", "share"),
    "median_gap_s": Field("median gap between consecutive signature posts on a site", "seconds"),
    "span_hours": Field("from the first to the last signature post", "number"),
    "onset": Field("first signature post", "time"),
    "last_post": Field("last signature post", "time"),
    "flagged": Field("compromised", "flag"),
    "top_urls": Field("top URLs", "list"),
    "signature_sites": Field("the signature's sites", "text", "signature"),
    "explanation": Field("why, in words", "text", "why"),
    # Baselines' own measures (research.baselines).
    "anomalous_posts": Field("posts unlike the account's own history (COMPA)", "count"),
    "mean_cosine": Field("mean TF-IDF cosine of internal edges (Pacheco et al.)", "number"),
    "mean_weight": Field("mean co-link weight of internal edges (QUT co-link)", "number"),
    "mean_shared": Field("mean objects shared per pair (co-URL + Louvain)", "number"),
    "block_density": Field("density of the dense block (FRAUDAR)", "number"),
    "block_objects": Field("objects in the dense block (FRAUDAR)", "count"),
    "total_cosine": Field("summed TF-IDF cosine of internal edges (Pacheco et al.)", "number"),
    "total_weight": Field("summed co-link weight of internal edges (QUT co-link)", "number"),
    "mean_similarity": Field("mean pair similarity of matched actions (SynchroTrap)", "number"),
    "similar_pairs": Field("pairs above the similarity threshold (SynchroTrap)", "count"),
    "lockstep_objects": Field("objects acted on in lockstep (CopyCatch)", "count"),
    "mean_hits": Field("mean lockstep objects per member (CopyCatch)", "number"),
    "coordinated_shares": Field("URL shares within the coordination interval (CooRnet)", "count"),
}


#: The columns of ``accounts.csv`` (one row per account), in words.
ACCOUNT_FIELDS: dict[str, str] = {
    "account": "the account's id (a pseudonym when ingest was given a key)",
    "cluster": "the group it is judged with (-1: none)",
    "flagged": "its group is compromised",
    "score": "its group's ranking score",
    "verdict": "its group's verdict (compromised, coordinated or none)",
    "campaign": "its compromised group's campaign (-1: not flagged)",
    "attached": "judged with its group because it linked the signature in the span, not "
    "because the graph placed it there",
    "unsigned": "in one of a group's graph clusters but never linked its signature (not "
    "judged with it)",
}


def columns_markdown(clusters: list[str], accounts: list[str]) -> str:
    """The Markdown table of what each column of ``clusters.csv`` and ``accounts.csv`` holds
    (README's copy is checked against it by a test).

    Examples
    --------
    >>> print(columns_markdown(["cluster", "exclusivity"], ["account"]))
    | file | column | what it holds |
    |:--|:--|:--|
    | clusters.csv | `cluster` | cluster |
    | clusters.csv | `exclusivity` | share of all links to the signature's sites that are theirs |
    | accounts.csv | `account` | the account's id (a pseudonym when ingest was given a key) |
    """
    rows = ["| file | column | what it holds |", "|:--|:--|:--|"]
    rows += [f"| clusters.csv | `{c}` | {describe(c).words} |" for c in clusters]
    rows += [f"| accounts.csv | `{c}` | {ACCOUNT_FIELDS.get(c, c)} |" for c in accounts]
    return "\n".join(rows)


def describe(name: str) -> Field:
    """The field's words and kind; an unknown field is named by itself (``_`` as spaces).

    Examples
    --------
    >>> describe("n_unsigned").words
    'members of its clusters that never pushed the signature (not judged)'
    >>> describe("burst_score")
    Field(words='burst score', kind='number', short=None)
    """
    return FIELDS.get(name) or Field(name.replace("_", " "), "number")


def format_value(value: Any, kind: str) -> str:
    """A value as the report writes it (``n/a`` for missing ones); plain text, not yet escaped.

    Examples
    --------
    >>> format_value(0.456, "share"), format_value(1234, "count"), format_value(float("nan"), "days")
    ('46%', '1,234', 'n/a')
    >>> format_value(True, "flag"), format_value(12.4, "seconds"), format_value("We Heart It", "text")
    ('yes', '12 s', 'We Heart It')
    """
    if value is None or value is pd.NaT:
        return "n/a"
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(str(v) for v in value)
    if not isinstance(value, int | float | np.integer | np.floating):
        return str(value)
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
