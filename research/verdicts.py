"""The verdict ladder: ``compromised``, ``coordinated`` or ``none``, each with its reason.

Coordination is not compromise: feed networks, organisations, giveaways and
retweet storms push the same links together too. A group of accounts
(:mod:`research.evidence`) climbs the ladder one rung at a time:

``none``
    fewer than ``min_size`` adopters, or no site of its own (its links go to
    sites that others had been linking all along: a news site, a video site).
``coordinated``
    at least ``min_size`` accounts pushed sites born with their activity; benign
    coordination stops here, with the terms it failed named.
``compromised``
    coordinated, and every term of the rule holds:

    ================================  =================================================
    ``exclusivity >= min_exclusivity``  the signature's links are theirs (not a popular
                                        site: a news burst fails here)
    ``outside <= max_outside``          the sites were born and abandoned with them: at most
                                        ``max_outside`` other accounts linked them before or
                                        after (a brand's site that a giveaway swamps fails
                                        here)
    episode                             not routine: their signature posts fill little of
                                        the observed window, ``span_share <= max_span``, or
                                        come in waves far apart, active in a small share of
                                        it, ``active_share <= max_active`` (an organisation
                                        that moved to a new site and posts there every day
                                        fails here)
    ``history >= min_history``          the accounts have lives of their own outside the
                                        campaign (automated feeds, organisations that post
                                        all the time, and fresh fake accounts fail here)
    ``routine <= max_routine``          they do not coordinate outside it, before or after
                                        (an organisation moving to a new site fails here)
    ``repost_share <= max_reposts``     the posts are their own, not reposts of someone
                                        else's (a retweet storm fails here)
    ``link_reuse >= min_reuse``         they pushed the same pages, not each their own
                                        (adopters of a new app fail here)
    coarse app lift                     where the signature is a shortener's or shared
                                        host's one-account links (``coarse_share`` above
                                        1/2), ``app_lift >= min_app_lift``: the app their
                                        posts went through carries it (people posting their
                                        own short links through their usual client fail here;
                                        the lift then does not count as concert), unless most
                                        are a burst of the host (``burst_share`` above 1/2)
    concert                             any of ``synchrony >= min_synchrony`` (posts in
                                        waves), ``templating >= min_templating`` (the same
                                        words), ``app_lift >= min_app_lift`` (an app they
                                        seldom use otherwise), ``prevalence >=
                                        min_prevalence`` (a large share of the accounts
                                        active at the time); people sharing a popular link at
                                        their own pace fail here
    ================================  =================================================

:func:`decide` judges each group on its own signature first. With ``rule.pool`` ``"alongside"``
(the default) it also judges each group that pooling makes of several sites sharing adopters
(a campaign's rotated domains and short links, each too small to prove much alone: three posts
through an app prove little, nine do), and keeps the pooled group in place of its sites where
it is compromised; where it is not, each site keeps its own verdict. Pooling *before* judging
(``"before"``) instead lets the small sites that victims link in their own lives chain into the
campaign's group and spoil its evidence, the campaign's own site's verdict with it. The
compromised groups of one campaign (groups sharing their victims, :func:`campaigns`) are then
judged again as one group, kept as one where the union is compromised too, so that a campaign
is one row and one card.

Every threshold is a field of :class:`research.rule.Rule`. An unknown term
(no reposts recorded, no earlier posts to look at) does not fail. The
``score`` ranks groups for precision-recall curves: the product of the
terms, each oriented so that 1 is most suspicious.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from research.canonical import neutralise_bidi
from research.detect.clustering import Clustering
from research.graph.codes import components, group_sizes, overlapping_pairs
from research.graph.events import Events
from research.rule import Rule

#: The ladder's rungs, from most to least severe.
VERDICTS = ("compromised", "coordinated", "none")


@dataclass(frozen=True)
class Term:
    """One term of the rule: ``column op threshold`` (``op`` is ``>=`` or ``<=``)."""

    name: str
    column: str
    op: str
    threshold: str
    says: str

    def values(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        if self.column not in evidence:  # a table from before the term existed: unknown
            return np.full(len(evidence), np.nan)
        return evidence[self.column].to_numpy(dtype=np.float64)

    def passes(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        limit = getattr(rule, self.threshold)
        values = self.values(evidence, rule)
        ok = values >= limit if self.op == ">=" else values <= limit
        return ok | np.isnan(values)

    def text(self, row: pd.Series | dict, rule: Rule) -> str:
        value = float(_as_dict(row)[self.column])
        return _compare(self.name, value, self.op, getattr(rule, self.threshold))

    def known(self, row: pd.Series | dict) -> bool:
        return not _is_nan(_as_dict(row).get(self.column))

    def applies(self, row: pd.Series | dict) -> bool:
        """Whether the term concerns this group at all (an unknown term that applies is
        named as unknown in the explanation; one that does not apply is left out)."""
        return True

    @property
    def reads(self) -> tuple[str, ...]:
        """The evidence columns its words read (:func:`ladder` passes only those)."""
        return (self.column,)


#: A group whose signature links are mostly on coarse sites (share above this) has its app
#: carry the signature (:class:`CoarseApp`).
COARSE_MAJORITY = 0.5


def _mostly(evidence: pd.DataFrame, column: str = "coarse_share") -> np.ndarray:
    """Which groups of a table have most signature links on coarse sites (``coarse_share``)
    or on their bursts (``burst_share``); none in a table without the column."""
    if column not in evidence:
        return np.zeros(len(evidence), dtype=bool)
    return evidence[column].to_numpy(dtype=np.float64) > COARSE_MAJORITY


def _is_mostly(row: dict, column: str = "coarse_share") -> bool:
    """:func:`_mostly` of one row (a dict)."""
    return _as_float(row.get(column)) > COARSE_MAJORITY


@dataclass(frozen=True)
class CoarseApp(Term):
    """Where most of a group's signature links are on *coarse* sites (a shortener's or a shared
    host's one-account links through one app: :func:`research.graph.events.site_keys`), their
    pages are each one account's and what the accounts share is the host and the app. The app
    then carries the signature, and must be one they seldom use otherwise: ``app_lift >=
    min_app_lift`` (an unknown lift counts 0: through no known app, a host's one-account links
    are anybody's). People posting their own short links through their usual client fail here.
    Unless most of the links are a *burst* (``burst_share`` above 1/2: the host through that
    app, or through none, at ten times its usual rate by ten accounts or more,
    :class:`research.graph.events.Bursts`): then the burst carries the signature, as a stolen
    login posting through everyone's client, or an export without apps, leaves nothing else.
    Other groups: does not apply (holds)."""

    def values(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        if "app_lift" not in evidence:
            return np.full(len(evidence), np.nan)
        lift = np.nan_to_num(evidence["app_lift"].to_numpy(dtype=np.float64), nan=0.0)
        lift = np.where(_mostly(evidence, "burst_share"), np.maximum(lift, 1.0), lift)
        return np.where(_mostly(evidence), lift, np.nan)

    def text(self, row: pd.Series | dict, rule: Rule) -> str:
        # One row without building a table for it (the ladder asks thousands of rows).
        r = _as_dict(row)
        if _is_mostly(r) and _is_mostly(r, "burst_share"):
            return f"coarse burst {_as_float(r.get('burst_share')):.2f} of the links"
        lift = _as_float(r.get("app_lift"))
        value = (0.0 if math.isnan(lift) else lift) if _is_mostly(r) else math.nan
        return _compare(self.name, value, ">=", rule.min_app_lift)

    def known(self, row: pd.Series | dict) -> bool:
        return self.applies(row)

    def applies(self, row: pd.Series | dict) -> bool:
        return _is_mostly(_as_dict(row))

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.column, "coarse_share", "burst_share")


@dataclass(frozen=True)
class Episode(Term):
    """An episode, not routine: the signature posts cover at most ``max_span`` of the observed
    window (``span_share``), or they are active in at most ``max_active`` of it
    (``active_share``: the span with each pause between waves counted as a long gap within
    one, :mod:`research.evidence`). A campaign in a few waves days apart spans much of the
    window and is active in little of it, however few its posts; a feed or an organisation
    posting every day is active in much of what it spans.
    Its value is ``span_share``, capped at ``max_span`` where the waves hold; the text names
    both where the span alone fails."""

    def values(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        span = super().values(evidence, rule)
        if "active_share" not in evidence:  # a table from before the term was split
            return span
        active = evidence["active_share"].to_numpy(dtype=np.float64)
        by_waves = ~(span <= rule.max_span) & (active <= rule.max_active)
        return np.where(by_waves, np.minimum(span, rule.max_span), span)

    def text(self, row: pd.Series | dict, rule: Rule) -> str:
        r = _as_dict(row)
        span, active = _as_float(r.get("span_share")), _as_float(r.get("active_share"))
        spanned = _compare("span", span, "<=", rule.max_span)
        if math.isnan(span) or span <= rule.max_span or math.isnan(active):
            return spanned
        return _unless(
            spanned, _compare("active", active, "<=", rule.max_active), active <= rule.max_active
        )

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.column, "active_share")


@dataclass(frozen=True)
class Reuse(Term):
    """They pushed one message: the same pages (``link_reuse >= min_reuse``) or, where each
    posted its own pages (per-post tracking, one link per victim), the same words
    (``templating >= min_templating``). Adopters of a new app post their own pages in their
    own words and fail here. Its value is ``link_reuse``, raised to ``min_reuse`` where the
    words hold; the text names both where the pages alone fail."""

    def values(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        reuse = super().values(evidence, rule)
        if "templating" not in evidence:
            return reuse
        words = evidence["templating"].to_numpy(dtype=np.float64) >= rule.min_templating
        return np.where(~(reuse >= rule.min_reuse) & words, rule.min_reuse, reuse)

    def text(self, row: pd.Series | dict, rule: Rule) -> str:
        r = _as_dict(row)
        reuse, words = _as_float(r.get("link_reuse")), _as_float(r.get("templating"))
        pages = _compare(self.name, reuse, ">=", rule.min_reuse)
        if math.isnan(reuse) or reuse >= rule.min_reuse or math.isnan(words):
            return pages
        templated = _compare("templating", words, ">=", rule.min_templating)
        return _unless(pages, templated, words >= rule.min_templating)

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.column, "templating")


#: The signals of ``concert``, each with its threshold: any one of them suffices.
CONCERT = (
    ("synchrony", "synchrony", "min_synchrony"),
    ("templating", "templating", "min_templating"),
    ("app lift", "app_lift", "min_app_lift"),
    ("prevalence", "prevalence", "min_prevalence"),
)


@dataclass(frozen=True)
class Concert(Term):
    """At least one sign that they acted in concert: posts in waves (``synchrony``), the same
    words (``templating``), an app they seldom use otherwise (``app_lift``), or a large share of
    the accounts active at the time (``prevalence``). Its value is the largest signal over its
    threshold (capped at 1): at least 1 passes.

    Where the signature is coarse (:class:`CoarseApp`), the app lift already stands in for the
    reuse of pages that cannot be seen; concert must then come from another sign (people who
    post their own short links through the client that shortens them have a lift too, and
    post at their own pace, in their own words). Likewise where the signature is a template
    (most links on text sites, ``text_share`` above 1/2): the same words made the group, so
    they cannot also be the sign that it acted in concert."""

    def values(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        ratios = [
            evidence[col].to_numpy(dtype=np.float64) / max(getattr(rule, limit), 1e-12)
            for _name, col, limit in CONCERT
        ]
        cols = [col for _name, col, _limit in CONCERT]
        lift, words = cols.index("app_lift"), cols.index("templating")
        ratios[lift] = np.where(_mostly(evidence), np.nan, ratios[lift])
        ratios[words] = np.where(_mostly(evidence, "text_share"), np.nan, ratios[words])
        stacked = np.vstack(ratios) if len(evidence) else np.zeros((len(CONCERT), 0))
        best = np.where(np.isnan(stacked), -np.inf, stacked).max(axis=0)
        return np.where(np.isfinite(best), np.minimum(best, 1.0), 0.0)

    def passes(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        return self.values(evidence, rule) >= 1.0

    def text(self, row: pd.Series | dict, rule: Rule) -> str:
        r = _as_dict(row)
        left_out = {"app_lift": _is_mostly(r), "templating": _is_mostly(r, "text_share")}
        parts = [
            _compare(name, float(r[col]), ">=", getattr(rule, limit))
            for name, col, limit in CONCERT
            if not _is_nan(r.get(col)) and not left_out.get(col, False)
        ]
        return (
            "concert (any of: " + ", ".join(parts) + ")" if parts else "concert (no signal known)"
        )

    @property
    def reads(self) -> tuple[str, ...]:
        return (*(col for _name, col, _limit in CONCERT), "coarse_share", "text_share")

    def known(self, row: pd.Series | dict) -> bool:
        return True


TERMS: tuple[Term, ...] = (
    Term(
        "exclusivity",
        "exclusivity",
        ">=",
        "min_exclusivity",
        "share of the signature's links that are theirs",
    ),
    Term(
        "outside",
        "outside",
        "<=",
        "max_outside",
        "accounts that linked the signature's sites before or after them",
    ),
    Episode(
        "span",
        "span_share",
        "<=",
        "max_span",
        "share of the observed window their signature posts cover, or are active in",
    ),
    Term(
        "history", "history", ">=", "min_history", "share of them with posts outside the campaign"
    ),
    Term("routine", "routine", "<=", "max_routine", "share coordinated outside the campaign too"),
    Term("reposts", "repost_share", "<=", "max_reposts", "share of the posts that are reposts"),
    Reuse(
        "reuse",
        "link_reuse",
        ">=",
        "min_reuse",
        "share of posts with a page another of them posted (or the same words)",
    ),
    CoarseApp(
        "coarse app lift",
        "app_lift",
        ">=",
        "min_app_lift",
        "app lift, where the signature is a shortener's or host's one-account links",
    ),
    Concert("concert", "concert", ">=", "", "a sign that they acted in concert"),
)


_COARSE_APP = next(t for t in TERMS if isinstance(t, CoarseApp))
_REUSE = next(t for t in TERMS if isinstance(t, Reuse))
#: The evidence columns the terms' words read (:attr:`Term.reads`), each once.
_TERM_READS = tuple(dict.fromkeys(c for t in TERMS for c in t.reads))


def _unless(failed: str, alternative: str, holds: bool) -> str:
    """A failed comparison and the alternative that can stand in for it: "x but y" where the
    alternative holds, "x and y" where it fails too."""
    return f"{failed}{' but ' if holds else ' and '}{alternative}"


def _compare(name: str, value: float, op: str, limit: float) -> str:
    if _is_nan(value):
        return f"{name} n/a"
    holds = value >= limit if op == ">=" else value <= limit
    sign = ("≥" if op == ">=" else "≤") if holds else ("<" if op == ">=" else ">")
    if isinstance(limit, int):  # a count (``max_outside``), not a share
        return f"{name} {value:.0f} {sign} {limit}"
    return f"{name} {value:.2f} {sign} {limit:.2f}"


def ladder(evidence: pd.DataFrame, rule: Rule, *, words: bool = True) -> pd.DataFrame:
    """Verdict, reason and score of every group of an evidence table.

    Returns
    -------
    DataFrame
        ``verdict``, ``flagged`` (``verdict == 'compromised'``), ``reason`` (the failed terms
        with their values and thresholds, or the passed ones) and ``score``, one row per group.

    Examples
    --------
    >>> row = {"n_adopters": 40, "n_sites": 1, "top_site": "diet.com", "exclusivity": 0.99,
    ...        "outside": 0, "span_share": 0.01, "history": 0.9, "routine": 0.0, "repost_share": 0.0,
    ...        "link_reuse": 0.95, "synchrony": 0.8, "templating": float("nan"),
    ...        "app_lift": 0.9, "prevalence": float("nan")}
    >>> out = ladder(pd.DataFrame([row, {**row, "routine": 0.9}]), Rule())
    >>> out["verdict"].tolist()
    ['compromised', 'coordinated']
    >>> out["reason"][1]
    'routine 0.90 > 0.30'

    With ``words=False`` the reasons are left ``None`` (:func:`reasons` writes them later:
    :func:`decide` judges some groups twice and words only the table it keeps).
    """
    n = len(evidence)
    _size, coordinated = _judged(evidence, rule)
    passes = [t.passes(evidence, rule) for t in TERMS]
    all_pass = np.logical_and.reduce(passes) if n else np.zeros(0, dtype=bool)
    verdict = np.where(
        coordinated & all_pass, "compromised", np.where(coordinated, "coordinated", "none")
    )
    return pd.DataFrame(
        {
            "concert": TERMS[-1].values(evidence, rule),
            "verdict": verdict,
            "flagged": verdict == "compromised",
            "reason": reasons(evidence, rule) if words else None,
            "score": score(evidence, rule),
        },
        index=evidence.index,
    )


def reasons(evidence: pd.DataFrame, rule: Rule) -> list[str]:
    """The ``reason`` of each group of an evidence table (:func:`ladder`): the failed terms
    with their values and thresholds, ``all terms hold``, or why it was not judged."""
    size, coordinated = _judged(evidence, rule)
    passes = {t.name: t.passes(evidence, rule) for t in TERMS}
    out = [
        f"adopters {k} < {rule.min_size}"
        if k < rule.min_size
        else "no site of its own: its links go to sites others had been linking before"
        for k in size.tolist()
    ]
    # Only the columns the terms read: a row of every column cost more than the words.
    rows = evidence.iloc[np.flatnonzero(coordinated)][
        [c for c in _TERM_READS if c in evidence]
    ].to_dict("records")
    for i, row in zip(np.flatnonzero(coordinated).tolist(), rows, strict=True):
        failed = [t.text(row, rule) for t in TERMS if not passes[t.name][i]]
        out[i] = "; ".join(failed) if failed else "all terms hold"
    return out


def _judged(evidence: pd.DataFrame, rule: Rule) -> tuple[np.ndarray, np.ndarray]:
    """Each group's adopters, and whether the terms judge it (big enough, with a site)."""
    if len(evidence) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    size = evidence["n_adopters"].to_numpy(dtype=np.int64)
    return size, (size >= rule.min_size) & (evidence["n_sites"].to_numpy() > 0)


def compromised(evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
    """Which groups the rule judges compromised (the top rung of :func:`ladder`, without the
    words: fast enough to score thousands of threshold settings)."""
    if len(evidence) == 0:
        return np.zeros(0, dtype=bool)
    _size, ok = _judged(evidence, rule)
    for term in TERMS:
        ok &= term.passes(evidence, rule)
    return ok


def score(evidence: pd.DataFrame, rule: Rule | None = None) -> np.ndarray:
    """The product of the terms, each oriented so that 1 is most suspicious (unknown terms
    count 1; ``concert`` is its strongest signal over its threshold, capped at 1; ``outside``, a
    count, as ``(max_outside + 1) / (max_outside + 1 + outside)``: 1 for a site born with the group,
    1/2 just past the threshold; reuse, where the signature is coarse, as the app lift)."""
    rule = rule or Rule()
    if len(evidence) == 0:
        return np.zeros(0)

    def col(name: str, fill: float) -> np.ndarray:
        return np.nan_to_num(evidence[name].to_numpy(dtype=np.float64), nan=fill).clip(0, 1)

    outside = (
        np.nan_to_num(evidence["outside"].to_numpy(dtype=np.float64), nan=0.0).clip(0, None)
        if "outside" in evidence
        else np.zeros(len(evidence))
    )
    # Reuse, or where the signature is coarse (pages one account's each) the app carrying it.
    coarse = _COARSE_APP.values(evidence, rule)
    pages = np.nan_to_num(_REUSE.values(evidence, rule), nan=0.0).clip(0, 1)
    reuse = np.where(np.isnan(coarse), pages, np.clip(coarse, 0, 1))
    return (
        col("exclusivity", 0.0)
        * ((rule.max_outside + 1) / (rule.max_outside + 1 + outside))
        * col("history", 1.0)
        * (1 - col("routine", 0.0))
        * (1 - col("repost_share", 0.0))
        * reuse
        * TERMS[-1].values(evidence, rule)
    )


def needs_costly_terms(evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
    """Groups whose verdict hangs on the costly signals (templating, prevalence): big enough,
    with a signature, every other term holding, and not in concert by time or app alone or
    short of reused pages (where the same words stand in for them, :class:`Reuse`)."""
    if len(evidence) == 0:
        return np.zeros(0, dtype=np.int64)
    ok = np.logical_and.reduce([t.passes(evidence, rule) for t in TERMS[:-1] if t is not _REUSE])
    ok &= (evidence["n_adopters"].to_numpy() >= rule.min_size) & (
        evidence["n_sites"].to_numpy() > 0
    )
    ok &= ~TERMS[-1].passes(evidence, rule) | ~_REUSE.passes(evidence, rule)
    return np.flatnonzero(ok)


def explain(row: pd.Series | dict, rule: Rule | None = None) -> str:
    """Why a group got its verdict, in words that name each term, its value and threshold.

    Judging words (hijacked, attack) appear only where the rule judged the group compromised.

    Examples
    --------
    >>> row = {"cluster": 0, "n_adopters": 40, "verdict": "compromised", "score": 0.9,
    ...        "top_site": "diet.com", "n_sites": 1, "n_signature_posts": 120, "top_app": "We Heart It",
    ...        "app_share": 0.97, "app_novelty": 0.1, "exclusivity": 0.99, "outside": 0, "span_share": 0.01,
    ...        "history": 0.9, "routine": 0.0, "repost_share": 0.0, "link_reuse": 0.95,
    ...        "synchrony": 0.8, "templating": float("nan"), "app_lift": 0.9, "prevalence": float("nan"),
    ...        "median_gap_s": 12.0, "span_hours": 5.0, "n_attached": 3, "n_unsigned": 0, "n_pieces": 2}
    >>> print(explain(row))
    Cluster 0 (40 accounts) is compromised (score 0.90): 120 posts linked diet.com over 5.0 h, a median 12 s apart, 97% through We Heart It (an app 90% of them had used before: an abused legitimate app). Every term holds: exclusivity 0.99 ≥ 0.70; outside 0 ≤ 0; span 0.01 ≤ 0.30; history 0.90 ≥ 0.00; routine 0.00 ≤ 0.30; reposts 0.00 ≤ 0.50; reuse 0.95 ≥ 0.40; concert (any of: synchrony 0.80 ≥ 0.50, app lift 0.90 ≥ 0.50). 2 clusters pooled by their signature; 3 accounts attached by it.
    """
    rule = rule or Rule()
    r: dict[str, Any] = _as_dict(row)
    verdict = str(r.get("verdict", "none"))
    size = int(r.get("n_adopters", r.get("size", 0)))
    said = {"none": "not flagged", "coordinated": "coordinated, not flagged"}.get(verdict, verdict)
    head = f"Cluster {int(r['cluster'])} ({size} account{'s' if size != 1 else ''}) is {said}"
    if verdict == "compromised":
        head += f" (score {float(r.get('score', 0.0)):.2f})"
    site = neutralise_bidi(str(r.get("top_site") or ""))
    if int(r.get("n_sites", 0) or 0) == 0 or not site:
        return head + f": {r.get('reason') or 'no site of its own'}."
    facts = _facts(r, site, judged=verdict == "compromised")
    if verdict == "none":
        return f"{head}: {facts} Not judged further: {r.get('reason')}."
    known = {t.name: t.known(r) for t in TERMS if t.applies(r)}  # asked once per term
    terms = [t.text(r, rule) for t in TERMS if known.get(t.name, False)]
    unknown = [t.name for t in TERMS if t.name in known and not known[t.name]]
    if verdict == "compromised":
        body = f"Every term holds: {'; '.join(terms)}."
    else:
        body = f"Not compromised: {r.get('reason')}. Terms: {'; '.join(terms)}."
    if unknown:
        body += f" Unknown (not counted against it): {', '.join(unknown)}."
    tail = []
    if int(r.get("n_pieces", 1) or 1) > 1:
        tail.append(f"{int(r['n_pieces'])} clusters pooled by their signature")
    if int(r.get("n_attached", 0) or 0):
        tail.append(f"{int(r['n_attached'])} accounts attached by it")
    if int(r.get("n_unsigned", 0) or 0):
        tail.append(f"{int(r['n_unsigned'])} members never linked it and are not judged with it")
    return f"{head}: {facts} {body}" + (f" {'; '.join(tail)}." if tail else "")


#: The columns :func:`explain` reads besides the terms' (:data:`_TERM_READS`).
_EXPLAIN_READS = (
    "cluster", "n_adopters", "size", "verdict", "score", "reason", "top_site", "n_sites",
    "n_signature_posts", "span_hours", "median_gap_s", "top_app", "app_share", "app_novelty",
    "n_pieces", "n_attached", "n_unsigned",
)  # fmt: skip


def explanations(table: pd.DataFrame, rule: Rule | None = None) -> list[str]:
    """:func:`explain` of every row of a judged table. Only the columns the words read are
    turned into rows: every column (timestamps, URL lists) had cost a third of the words'
    time at 10^7 posts (30,000 groups)."""
    read = [c for c in dict.fromkeys((*_EXPLAIN_READS, *_TERM_READS)) if c in table]
    return [explain(row, rule) for row in table[read].to_dict("records")]


def _facts(r: dict, site: str, *, judged: bool) -> str:
    """What the group did, in neutral words (judging words only when ``judged``)."""
    n_sites = int(r.get("n_sites", 1))
    where = (
        site if n_sites == 1 else f"{site} and {n_sites - 1} other site{'s' if n_sites > 2 else ''}"
    )
    text = f"{int(r.get('n_signature_posts', 0))} posts linked {where}"
    if not _is_nan(r.get("span_hours")):
        text += f" over {_duration(float(r['span_hours']))}"
    if not _is_nan(r.get("median_gap_s")):
        text += f", a median {float(r['median_gap_s']):.0f} s apart"
    app = neutralise_bidi(str(r.get("top_app") or ""))
    if app and not _is_nan(r.get("app_share")):
        text += f", {_pct(r['app_share'])} through {app}"
        novelty: Any = r.get("app_novelty")
        if not _is_nan(novelty):
            used = 1.0 - float(novelty)
            if judged and used >= 0.5:
                text += f" (an app {_pct(used)} of them had used before: an abused legitimate app)"
            elif judged and float(novelty) >= 0.9:
                text += f" (an app new to {_pct(novelty)} of them: a rogue app)"
            else:
                text += f" (new to {_pct(novelty)} of those with earlier posts)"
    return text + "."


def _duration(hours: float) -> str:
    return (
        f"{hours * 60:.0f} min"
        if hours < 1
        else (f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days")
    )


def _pct(x: object) -> str:
    return f"{100 * float(x):.0f}%"  # type: ignore[arg-type]


def _as_dict(row: pd.Series | dict) -> dict:
    """The row as a dict: a dict as it is (not copied: the ladder and the explanations read
    many terms of tens of thousands of rows), anything else converted."""
    return row if isinstance(row, dict) else dict(row)


def _as_float(x: object) -> float:
    """A table cell as a float, as ``to_numpy(dtype=float64)`` reads it (``None``: NaN)."""
    return math.nan if x is None else float(x)  # type: ignore[arg-type]


def _is_nan(x: object) -> bool:
    try:
        return x is None or math.isnan(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


@dataclass(frozen=True)
class Decision:
    """Verdicts of every group and every account.

    Attributes
    ----------
    clusters
        One row per group (ids ``0..k-1``: compromised first, then coordinated, then none;
        more adopters first): ``size`` (accounts listed in it), the evidence of
        :mod:`research.evidence`, ``verdict``, ``flagged``, ``reason``, ``score`` and
        ``explanation``.
    accounts
        One row per account: ``account``, ``cluster`` (-1: none), ``flagged``, ``score``,
        ``verdict``, ``attached``, ``unsigned``.
    membership
        ``accounts["cluster"]`` as an array.
    """

    clusters: pd.DataFrame
    accounts: pd.DataFrame
    membership: np.ndarray


def decide(
    events: Events,
    clustering: Clustering,
    rule: Rule | None = None,
    *,
    texts: pa.ChunkedArray | pa.Array | None = None,
) -> Decision:
    """Pool a clustering into groups, measure their evidence and climb the ladder.

    Parameters
    ----------
    events
        Encoded posts.
    clustering
        Any clustering of the accounts (the package's, or a baseline's for an ablation).
    rule
        Settings and thresholds (:class:`research.rule.Rule`).
    texts
        The posts' texts aligned with the posts table, for the templating term.
    """
    from research.evidence import group_evidence, pooled_unions, signature_groups

    rule = rule or Rule()

    def judge(
        together: list[np.ndarray], previous: tuple[Any, pd.DataFrame] | None = None
    ) -> tuple[Any, pd.DataFrame]:
        groups = signature_groups(events, clustering, rule, together=together)
        evidence = group_evidence(
            events, groups, texts=texts, rule=rule, costly_for=lambda e: needs_costly_terms(e, rule),
            previous=previous,
        )  # fmt: skip
        return groups, pd.concat([evidence, ladder(evidence, rule, words=False)], axis=1)

    # Each group is judged on its own signature. With ``rule.pool == "alongside"`` the groups that
    # pooling would make of several sites are judged too, and replace their sites' groups where
    # compromised (a campaign split over sites each too small to prove anything). Then the
    # compromised groups of one campaign (sharing their victims: :func:`campaigns`) are judged
    # again as one group, and kept as one where the union is compromised too (a campaign's
    # rotated domains and short links, one card). Judging again reuses the costly terms of the
    # groups left as they were.
    groups, table = judge([])
    if rule.pool == "alongside":
        unions = pooled_unions(events, clustering, rule)
        if unions:
            pooled_groups, pooled = judge(unions, previous=(groups, table))
            pooled_of = pooled_groups.site_group()
            kept = [u for u in unions if _compromised(pooled)[pooled_of[int(u[0])]]]
            if len(kept) == len(unions):
                groups, table = pooled_groups, pooled
            elif kept:
                groups, table = judge(kept, previous=(groups, table))
    # Rows are in group order (``cluster`` is ``0..n-1``) until they are ranked below.
    found = campaigns(groups.pair_account, groups.pair_group, _compromised(table), rule)
    several = [c for c in range(int(found.max(initial=-1)) + 1) if np.count_nonzero(found == c) > 1]
    together = [
        np.concatenate([groups.sites[g] for g in np.flatnonzero(found == c)]) for c in several
    ]

    def standing(joining: list[int]) -> list[np.ndarray]:
        # Groups of several sites already (pooled above) outside the campaigns being joined stay
        # as they are: judging again from the sites would split them.
        outside = np.flatnonzero(~np.isin(found, joining))
        return [groups.sites[g] for g in outside if len(groups.sites[g]) > 1]

    if together:
        joined_groups, joined = judge(together + standing(several), previous=(groups, table))
        group_of = joined_groups.site_group()
        holds = [bool(_compromised(joined)[group_of[int(t[0])]]) for t in together]
        if all(holds):
            groups, table = joined_groups, joined
        elif any(holds):
            kept = [t for t, h in zip(together, holds, strict=True) if h]
            chosen = [c for c, h in zip(several, holds, strict=True) if h]
            groups, table = judge(kept + standing(chosen), previous=(groups, table))
    table["reason"] = reasons(table, rule)  # the words of the table kept only
    # Ids: compromised first, then coordinated, then none; larger groups first; ties by old id.
    rank = table["verdict"].map({v: i for i, v in enumerate(VERDICTS)}).to_numpy()
    order = np.lexsort((table["cluster"].to_numpy(), -table["n_adopters"].to_numpy(), rank))
    new_id = np.empty(len(order), dtype=np.int64)
    new_id[order] = np.arange(len(order))
    table = table.iloc[order].reset_index(drop=True)
    table["cluster"] = np.arange(len(table))
    # Each account: the most severe group it adopted (new ids are ordered by severity).
    n_acc = len(clustering.membership)
    membership = groups.primary(rank=new_id)
    membership = (
        np.where(membership >= 0, new_id[np.maximum(membership, 0)], -1)
        if len(new_id)
        else np.full(n_acc, -1, dtype=np.int64)
    )
    pair_group = new_id[groups.pair_group]
    verdicts = table["verdict"].to_numpy()
    severity = np.array([VERDICTS.index(v) for v in verdicts], dtype=np.int64)
    best = np.full(n_acc, len(VERDICTS), dtype=np.int64)
    np.minimum.at(best, groups.pair_account, severity[pair_group])
    account_score = np.zeros(n_acc)
    np.maximum.at(account_score, groups.pair_account, table["score"].to_numpy()[pair_group])
    adopter = best < len(VERDICTS)
    verdict = np.where(
        adopter, np.array((*VERDICTS, "none"))[np.minimum(best, len(VERDICTS))], "none"
    )
    member_of = np.zeros(n_acc, dtype=bool)
    chosen = pair_group == membership[groups.pair_account]
    member_of[groups.pair_account[chosen & groups.pair_member]] = True
    table.insert(1, "size", group_sizes(membership[membership >= 0], len(table)))
    campaign = campaigns(groups.pair_account, pair_group, verdicts == "compromised", rule)
    table.insert(table.columns.get_loc("verdict") + 1, "campaign", campaign)
    table["explanation"] = explanations(table, rule)
    accounts = pd.DataFrame(
        {
            "account": clustering.accounts.to_numpy(),
            "cluster": membership,
            "flagged": verdict == "compromised",
            "score": account_score,
            "verdict": verdict,
            "campaign": np.where(
                (verdict == "compromised") & (membership >= 0),
                campaign[np.maximum(membership, 0)] if len(campaign) else -1,
                -1,
            ),
            "attached": adopter & ~member_of,
            "unsigned": ~adopter & groups.unsigned(),
        }
    )
    return Decision(clusters=table, accounts=accounts, membership=membership)


def _compromised(table: pd.DataFrame) -> np.ndarray:
    """Whether each row of a judged table is compromised."""
    return (table["verdict"] == "compromised").to_numpy(dtype=bool)


def campaigns(
    pair_account: np.ndarray, pair_group: np.ndarray, judged: np.ndarray, rule: Rule
) -> np.ndarray:
    """The campaign of each group (``-1``: not compromised): compromised groups whose adopters
    overlap (at least two shared, and at least ``rule.pool_overlap`` of the smaller group) are
    one campaign, numbered in order of their lowest group id.

    Groups are judged each on its own signature (pooling them first lets small sites that
    victims link in their own lives chain a campaign with them; the selection chose not to);
    a campaign that pushed several sites (its rotated domains, its short links) is then several
    compromised groups sharing their victims, and this puts them back together for the reader.
    Only groups that were judged compromised alone are joined, so the join cannot make a verdict.

    Examples
    --------
    >>> campaigns(np.array([0, 1, 2, 0, 1, 5, 6]), np.array([0, 0, 0, 1, 1, 2, 2]),
    ...           np.array([True, True, True, False]), Rule())
    array([ 0,  0,  1, -1])
    """
    n = len(judged)
    out = np.full(n, -1, dtype=np.int64)
    keep = judged[pair_group] if n else np.zeros(0, dtype=bool)
    if not keep.any():
        return out
    acc, grp = pair_account[keep], pair_group[keep]
    rows, cols, _shared = overlapping_pairs(grp, acc, n, int(acc.max()) + 1, rule.pool_overlap)
    ids = np.flatnonzero(judged)
    out[ids] = components(n, rows, cols)[ids]
    out[ids] = np.unique(out[ids], return_inverse=True)[1].ravel()  # 0.. in order of lowest id
    return out
