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
    "top_app": Field("top app", "text"),
    "top_domain": Field("top domain", "text"),
    "verdict": Field("verdict", "text"),
    "reason": Field(
        "the rule's term that decided, against its threshold", "text", "why (not) flagged"
    ),
    "size": Field("members", "count", "accounts"),
    "core_size": Field("members found through the graph", "count"),
    "n_attached": Field("members attached by the cluster's signature", "count"),
    "n_unsigned": Field("members who never posted the signature (not flagged)", "count"),
    "score": Field("suspicion score (0-1)", "number", "score"),
    "stability": Field("runs that found this cluster (consensus)", "share"),
    # The rule's terms.
    "history_break": Field("break in members' history used by the rule", "share", "history break"),
    "domain_break": Field("how much rarer the top domain was before the onset", "share"),
    "app_break": Field("how much rarer the top app was before the onset", "share"),
    "exclusivity": Field(
        "share of all links to the top domain made by members", "share", "exclusivity"
    ),
    "with_history": Field("share of members who posted before the onset", "share"),
    "n_with_history": Field("members who posted before the onset", "count"),
    "n_without_history": Field("members with no post before the onset", "count"),
    "domain_novelty": Field("of those with a history, never linked the top domain before", "share"),
    "app_novelty": Field("of those with a history, never used the top app before", "share"),
    "lead_days": Field("median history before the onset", "days"),
    # How they acted together.
    "synchrony": Field(
        "members' posts during the attack that were coordinated", "share", "synchrony"
    ),
    "templating": Field("coordinated texts that are near-duplicates", "share"),
    "median_gap_s": Field("median gap between coordinated posts of one link", "seconds"),
    "app_share": Field("coordinated posts through the top app", "share"),
    "domain_share": Field("coordinated links to the top domain", "share"),
    "url_share": Field("coordinated links to the top URL (query stripped)", "share"),
    "n_coordinated_posts": Field("coordinated posts", "count"),
    "density": Field("edges among members / possible pairs", "share"),
    "onset": Field("onset of the attack", "time"),
    "first_post": Field("first coordinated post", "time"),
    "last_post": Field("last coordinated post", "time"),
    "flagged": Field("flagged", "flag"),
    "top_urls": Field("top URLs", "list"),
    "explanation": Field("why, in words", "text", "why (not) flagged"),
    # Baselines' own measures (research.baselines).
    "anomalous_posts": Field("posts unlike the account's own history (COMPA)", "count"),
    "mean_cosine": Field("mean TF-IDF cosine of internal edges (Pacheco et al.)", "number"),
    "mean_weight": Field("mean co-link weight of internal edges (QUT co-link)", "number"),
    "mean_shared": Field("mean objects shared per pair (EvilCohort)", "number"),
    "block_density": Field("density of the dense block (FRAUDAR)", "number"),
    "block_objects": Field("objects in the dense block (FRAUDAR)", "count"),
    "total_cosine": Field("summed TF-IDF cosine of internal edges (Pacheco et al.)", "number"),
    "total_weight": Field("summed co-link weight of internal edges (QUT co-link)", "number"),
    "coordinated_shares": Field("co-shares within the coordination interval (CooRnet)", "number"),
    "lockstep_objects": Field("objects the lockstep group acted on together (CopyCatch)", "count"),
    "mean_hits": Field("mean share of the group's objects each member hit in time (CopyCatch)", "share"),
    "mean_similarity": Field("mean Jaccard similarity of linked pairs (SynchroTrap)", "number"),
    "similar_pairs": Field("pairs above the similarity threshold (SynchroTrap)", "count"),
}


def describe(name: str) -> Field:
    """The field's words and kind; an unknown field is named by itself (``_`` as spaces).

    Examples
    --------
    >>> describe("n_unsigned").words
    'members who never posted the signature (not flagged)'
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
