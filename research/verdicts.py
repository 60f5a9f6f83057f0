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
                                        it, ``active_share <= max_active``, or of their own
                                        span, ``duty <= max_duty`` (an organisation that
                                        moved to a new site and posts there every day fails
                                        here)
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
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from research.canonical import neutralise_bidi
from research.detect.clustering import Clustering
from research.graph.codes import components, group_sizes, overlapping_pairs
from research.graph.events import Events
from research.rule import Rule

if TYPE_CHECKING:
    from research.learned import LearnedRule

#: The ladder's rungs, from most to least severe.
VERDICTS = ("compromised", "coordinated", "none")

#: A judged table's columns that the words read, each an array of its cells (one row: columns
#: of one cell, as it is). The words are written a column at a time: at 10^7 posts there are
#: 30,000 groups, and row by row the words had cost a quarter of the pipeline.
Columns = dict[str, np.ndarray]


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
        """The term's words for one group: its value, comparison and threshold."""
        return self.texts(_row_columns(row), rule, np.zeros(1, dtype=np.int64))[0]

    def known(self, row: pd.Series | dict) -> bool:
        return bool(self.known_at(_row_columns(row), np.zeros(1, dtype=np.int64))[0])

    def applies(self, row: pd.Series | dict) -> bool:
        """Whether the term concerns this group at all (an unknown term that applies is
        named as unknown in the explanation; one that does not apply is left out)."""
        return bool(self.applies_at(_row_columns(row), np.zeros(1, dtype=np.int64))[0])

    def texts(self, cols: Columns, rule: Rule, rows: np.ndarray) -> list[str]:
        """:meth:`text` of some rows (positions) of a table's columns (:data:`Columns`), written
        a column at a time: the one place the term's words are written."""
        if not len(rows):  # a table without the column has no row to write
            return []
        values = _floats(cols[self.column][rows])
        return _comparisons(self.name, values, self.op, getattr(rule, self.threshold)).tolist()

    def known_at(self, cols: Columns, rows: np.ndarray) -> np.ndarray:
        """:meth:`known` of some rows of a table's columns."""
        return ~_unknown_at(cols, rows, self.column)

    def applies_at(self, cols: Columns, rows: np.ndarray) -> np.ndarray:
        """:meth:`applies` of some rows of a table's columns."""
        return np.ones(len(rows), dtype=bool)

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


def _mostly_at(cols: Columns, rows: np.ndarray, column: str = "coarse_share") -> np.ndarray:
    """:func:`_mostly` of some rows of a table's columns (:data:`Columns`)."""
    return _floats_at(cols, rows, column) > COARSE_MAJORITY


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

    def texts(self, cols: Columns, rule: Rule, rows: np.ndarray) -> list[str]:
        coarse, burst = _mostly_at(cols, rows), _floats_at(cols, rows, "burst_share")
        lift = _floats_at(cols, rows, "app_lift")
        lift = np.where(coarse, np.where(np.isnan(lift), 0.0, lift), np.nan)
        out = _comparisons(self.name, lift, ">=", rule.min_app_lift)
        bursts = coarse & (burst > COARSE_MAJORITY)
        out[bursts] = "coarse burst " + _fixed(burst[bursts], 2) + " of the links"
        return out.tolist()

    def known_at(self, cols: Columns, rows: np.ndarray) -> np.ndarray:
        return self.applies_at(cols, rows)

    def applies_at(self, cols: Columns, rows: np.ndarray) -> np.ndarray:
        return _mostly_at(cols, rows)

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.column, "coarse_share", "burst_share")


@dataclass(frozen=True)
class _Unless(Term):
    """A term with alternatives that can stand in for it where it fails: its text names the
    alternatives (each ``name column op threshold``) where the term fails and they are known,
    "x but y" where one holds (the first that does), "x and y and z" where every known one
    fails too. An alternative whose threshold is 0 on a ``<=`` (or 1 on a ``>=``) is off and
    not named unless its value reaches it."""

    alternatives: ClassVar[tuple[tuple[str, str, str, str], ...]]

    def texts(self, cols: Columns, rule: Rule, rows: np.ndarray) -> list[str]:
        values, limit = _floats_at(cols, rows, self.column), getattr(rule, self.threshold)
        out = _comparisons(self.name, values, self.op, limit)
        fails = ~np.isnan(values) & ~_holds(values, self.op, limit)
        told = np.zeros(len(rows), dtype=bool)  # an alternative that holds was named
        failed: list[np.ndarray] = []  # each known alternative's words where all of them fail
        for name, column, op, threshold in self.alternatives:
            others, other_limit = _floats_at(cols, rows, column), getattr(rule, threshold)
            known = ~np.isnan(others)
            holds = known & _holds(others, op, other_limit)
            first = fails & holds & ~told
            words = np.full(len(rows), "", dtype=object)
            words[known] = _comparisons(name, others[known], op, other_limit)
            out[first] += " but " + words[first]
            told |= first
            off = other_limit == (0.0 if op == "<=" else 1.0)
            failed.append(np.where(known & ~holds & ~off, words, ""))
        for words in failed:
            named = fails & ~told & (words != "")
            out[named] += " and " + words[named]
        return out.tolist()

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.column, *(column for _n, column, _o, _t in self.alternatives))


@dataclass(frozen=True)
class Episode(_Unless):
    """An episode, not routine: the signature posts cover at most ``max_span`` of the observed
    window (``span_share``), or they come in waves far apart: active in at most ``max_active``
    of the window (``active_share``: the span with each pause between waves counted as a long
    gap within one, :mod:`research.evidence`), or in at most ``max_duty`` of their own span
    (``duty``, which does not grow with the window: ten hour-long waves over four days are as
    much an episode in a ten-day export as in a month's). A campaign in a few waves days apart
    spans much of the window and is active in little of it, however few its posts; a feed or
    an organisation posting every day is active in much of what it spans.
    Its value is ``span_share``, capped at ``max_span`` where the waves hold; the text names
    the others where the span alone fails."""

    alternatives = (
        ("active", "active_share", "<=", "max_active"),
        ("duty", "duty", "<=", "max_duty"),
    )

    def values(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        span = super().values(evidence, rule)
        waves = np.zeros(len(evidence), dtype=bool)
        for _name, column, _op, threshold in self.alternatives:
            if column in evidence:  # a table from before the term was split has neither
                waves |= evidence[column].to_numpy(dtype=np.float64) <= getattr(rule, threshold)
        by_waves = ~(span <= rule.max_span) & waves
        return np.where(by_waves, np.minimum(span, rule.max_span), span)


@dataclass(frozen=True)
class Reuse(_Unless):
    """They pushed one message: the same pages (``link_reuse >= min_reuse``) or, where each
    posted its own pages (per-post tracking, one link per victim), the same words
    (``templating >= min_templating``). Adopters of a new app post their own pages in their
    own words and fail here. Its value is ``link_reuse``, raised to ``min_reuse`` where the
    words hold; the text names both where the pages alone fail."""

    alternatives = (("templating", "templating", ">=", "min_templating"),)

    def values(self, evidence: pd.DataFrame, rule: Rule) -> np.ndarray:
        reuse = super().values(evidence, rule)
        if "templating" not in evidence:
            return reuse
        words = evidence["templating"].to_numpy(dtype=np.float64) >= rule.min_templating
        return np.where(~(reuse >= rule.min_reuse) & words, rule.min_reuse, reuse)


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

    def texts(self, cols: Columns, rule: Rule, rows: np.ndarray) -> list[str]:
        left_out = {
            "app_lift": _mostly_at(cols, rows),
            "templating": _mostly_at(cols, rows, "text_share"),
        }
        signals = []  # each signal's words in each row, "" where unknown or left out
        for name, col, limit in CONCERT:
            told = ~_unknown_at(cols, rows, col)
            if col in left_out:
                told &= ~left_out[col]
            values = _floats(cols[col][rows[told]]) if told.any() else np.zeros(0)
            signals.append(_spread(_comparisons(name, values, ">=", getattr(rule, limit)), told))
        return [
            "concert (any of: " + parts + ")" if parts else "concert (no signal known)"
            for parts in _joined(signals, ", ").tolist()
        ]

    def known_at(self, cols: Columns, rows: np.ndarray) -> np.ndarray:
        return np.ones(len(rows), dtype=bool)

    @property
    def reads(self) -> tuple[str, ...]:
        return (*(col for _name, col, _limit in CONCERT), "coarse_share", "text_share")


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


def _holds(values: np.ndarray, op: str, limit: float) -> np.ndarray:
    return values >= limit if op == ">=" else values <= limit


def _comparisons(name: str, values: np.ndarray, op: str, limit: float) -> np.ndarray:
    """The words of ``value op limit`` for each value (an array of ``str`` objects): ``name
    value sign limit`` with the sign as the comparison came out (``≥``/``≤`` where it holds,
    ``<``/``>`` where it fails), or ``name n/a``; the value and limit with two decimals, or
    none where the limit is a count (an ``int``: ``max_outside``). The words of the commonest
    values (:data:`_SHORT`) are written once (:func:`_compared`)."""
    digits = 0 if isinstance(limit, int) else 2
    holds = _holds(values, op, limit)
    if len(values) <= _FEW:
        out, rest = np.empty(len(values), dtype=object), np.arange(len(values))
    else:
        whole, plain = _rounded(values, digits)
        short = plain & (whole <= _SHORT)
        out = _compared(name, op, limit)[np.where(short, whole, 0), holds.astype(np.int64)]
        rest = np.flatnonzero(~short)
    if len(rest):
        out[rest] = _compare(name, _fixed(values[rest], digits), holds[rest], op, limit)
        out[rest[np.isnan(values[rest])]] = f"{name} n/a"
    return out


def _compare(name: str, said: np.ndarray, holds: np.ndarray, op: str, limit: float) -> np.ndarray:
    """``name said sign limit`` of each written value ``said`` (``str`` objects) and whether
    its comparison holds."""
    limit_said = str(limit) if isinstance(limit, int) else f"{limit:.2f}"  # a count, or a share
    signs = np.array(
        [
            f" {'<' if op == '>=' else '>'} {limit_said}",
            f" {'≥' if op == '>=' else '≤'} {limit_said}",
        ],
        dtype=object,
    )
    return f"{name} " + said + signs[holds.astype(np.int64)]


#: Values written up to this (times 10**digits) have their comparisons' words in a table.
_SHORT = 100


@lru_cache(maxsize=256, typed=True)  # typed: a count limit 0 is not a share limit 0.0
def _compared(name: str, op: str, limit: float) -> np.ndarray:
    """The words of :func:`_compare` for the values ``k / 10**digits``, ``k`` in
    ``0.._SHORT``: ``[k, 0]`` where the comparison fails, ``[k, 1]`` where it holds."""
    said = _decimals(0 if isinstance(limit, int) else 2)[: _SHORT + 1]
    return np.stack(
        [_compare(name, said, np.full(len(said), h), op, limit) for h in (False, True)], axis=1
    )


#: Up to this many values are written one at a time (:func:`_fixed`, :func:`_comparisons`):
#: writing a column at a time costs more than it saves below it.
_FEW = 16
#: Integers up to this are written from a table by :func:`_fixed`.
_WRITTEN = 10_000


def _decimal(k: int, digits: int) -> str:
    """``k / 10**digits`` (``k >= 0``) with ``digits`` decimals."""
    unit = 10**digits
    return f"{k // unit}.{k % unit:0{digits}d}" if digits else str(k)


@lru_cache(maxsize=4)
def _decimals(digits: int) -> np.ndarray:
    """:func:`_decimal` of ``0.._WRITTEN`` (an array of ``str`` objects)."""
    return np.array([_decimal(k, digits) for k in range(_WRITTEN + 1)], dtype=object)


def _rounded(values: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Each value times ``10**digits`` rounded to an integer, and whether the value is plain:
    not negative, that product below 10^9 and not within 10^-6 of a half. There the rounded
    product cannot differ from Python's correctly rounded decimal (``format``), as the product
    is off the exact one by less than 10^-7."""
    with np.errstate(over="ignore", invalid="ignore"):  # infinite and NaN: not plain
        scaled = np.asarray(values, dtype=np.float64) * 10.0**digits
        whole = np.rint(scaled)
        plain = (
            (scaled >= 0)
            & (scaled < 1e9)
            & (np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) > 1e-6)
            & ~np.signbit(scaled)
        )
    return np.where(plain, whole, 0).astype(np.int64), plain


def _fixed(values: np.ndarray, digits: int) -> np.ndarray:
    """``format(value, f".{digits}f")`` of each value (an array of ``str`` objects): plain
    values (:func:`_rounded`) written from their integer, others (negative zero, ties, large,
    infinite, NaN) one at a time, as are all of a few values (:data:`_FEW`)."""
    if len(values) <= _FEW:
        return _strs(
            [format(v, f".{digits}f") for v in np.asarray(values, dtype=np.float64).tolist()]
        )
    whole, plain = _rounded(values, digits)
    listed = plain & (whole <= _WRITTEN)
    out = _decimals(digits)[np.where(listed, whole, 0)]
    beyond = np.flatnonzero(plain & ~listed)
    out[beyond] = (
        list(map(str, whole[beyond].tolist()))
        if digits == 0
        else [_decimal(k, digits) for k in whole[beyond].tolist()]
    )
    odd = np.flatnonzero(~plain)
    out[odd] = [
        format(v, f".{digits}f") for v in np.asarray(values, dtype=np.float64)[odd].tolist()
    ]
    return out


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
    # Only the columns the terms read; each term's words of all the rows that fail it at once.
    cols, judged = _columns(evidence, _TERM_READS), np.flatnonzero(coordinated)
    failed = []
    for t in TERMS:
        fails = coordinated & ~passes[t.name]
        failed.append(_spread(t.texts(cols, rule, np.flatnonzero(fails)), fails)[judged])
    for i, words in zip(judged.tolist(), _joined(failed, "; ").tolist(), strict=True):
        out[i] = words or "all terms hold"
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
    Cluster 0 (40 accounts) is compromised (score 0.90): 120 posts linked diet.com over 5.0 h, a median 12 s apart, 97% through We Heart It (an app 90% of them had used before: an abused legitimate app). Every term holds: exclusivity 0.99 ≥ 0.70; outside 0 ≤ 5; span 0.01 ≤ 0.30; history 0.90 ≥ 0.00; routine 0.00 ≤ 0.30; reposts 0.00 ≤ 0.20; reuse 0.95 ≥ 0.40; concert (any of: synchrony 0.80 ≥ 0.30, app lift 0.90 ≥ 0.50). 2 clusters pooled by their signature; 3 accounts attached by it.
    """
    return _explain(_row_columns(row), 1, rule or Rule())[0]


#: The columns :func:`explain` reads besides the terms' (:data:`_TERM_READS`).
_EXPLAIN_READS = (
    "cluster", "n_adopters", "size", "verdict", "score", "reason", "top_site", "n_sites",
    "n_signature_posts", "span_hours", "median_gap_s", "top_app", "app_share", "app_novelty",
    "n_pieces", "n_attached", "n_unsigned",
)  # fmt: skip


def explanations(table: pd.DataFrame, rule: Rule | None = None) -> list[str]:
    """:func:`explain` of every row of a judged table. Only the columns the words read are
    read, each once (:data:`Columns`): every column of every row (timestamps, URL lists) had
    cost a third of the words' time at 10^7 posts (30,000 groups)."""
    return _explain(_columns(table, (*_EXPLAIN_READS, *_TERM_READS)), len(table), rule or Rule())


_SAID = {"none": "not flagged", "coordinated": "coordinated, not flagged"}


def _explain(cols: Columns, n: int, rule: Rule) -> list[str]:
    """:func:`explain` of each of the ``n`` rows of a table's columns: the one place its words
    are written, a part at a time for all rows, then each row's parts put together."""

    def cells(name: str, default: Any = None) -> list[Any]:
        return cols[name].tolist() if name in cols else [default] * n

    verdicts = [str(v) for v in cells("verdict", "none")]
    sizes = (
        _ints(cols["n_adopters"]) if "n_adopters" in cols else [int(k) for k in cells("size", 0)]
    )
    scores = cells("score", 0.0)
    heads = [
        f"Cluster {c} ({k} account{'s' if k != 1 else ''}) is {_SAID.get(v, v)}"
        + (f" (score {float(s):.2f})" if v == "compromised" else "")
        for c, k, v, s in zip(
            _ints(cols["cluster"]) if n else [], sizes, verdicts, scores, strict=True
        )
    ]
    why, sites = cells("reason"), _readable(cells("top_site"))
    sited = np.array(
        [int(k or 0) != 0 and bool(s) for k, s in zip(cells("n_sites", 0), sites, strict=True)],
        dtype=bool,
    )
    judged = sited & np.array([v != "none" for v in verdicts], dtype=bool)
    facts = _spread(_facts(cols, np.flatnonzero(sited), sites, verdicts), sited).tolist()
    rows = np.flatnonzero(judged)
    # The terms of the rows judged, a term at a time: each known term's words, and the names of
    # the unknown ones (a term that does not apply is neither).
    told, unknown = [], []
    for t in TERMS:
        applies = t.applies_at(cols, rows)
        known = applies & t.known_at(cols, rows)
        told.append(_spread(t.texts(cols, rule, rows[known]), known))
        unknown.append(_spread(t.name, applies & ~known))
    terms = _joined(told, "; ")
    # After the terms: those unknown, and what else was pooled or attached with the group.
    names = _joined(unknown, ", ")
    pieces, attached, unsigned = (
        _counts(cols, rows, name, default)
        for name, default in (("n_pieces", 1), ("n_attached", 0), ("n_unsigned", 0))
    )
    tail = _joined(
        [
            _spread(_fixed(counts[shown], 0) + words, shown)
            for counts, shown, words in (
                (pieces, pieces > 1, " clusters pooled by their signature"),
                (attached, attached != 0, " accounts attached by it"),
                (unsigned, unsigned != 0, " members never linked it and are not judged with it"),
            )
        ],
        "; ",
    )
    ends = np.full(len(rows), "", dtype=object)
    ends[names.astype(bool)] = (
        " Unknown (not counted against it): " + names[names.astype(bool)] + "."
    )
    ends[tail.astype(bool)] += " " + tail[tail.astype(bool)] + "."
    said, after = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    said[rows], after[rows] = terms, ends
    return [
        f"{head}: {reason or 'no site of its own'}."
        if not site
        else f"{head}: {fact} Not judged further: {reason}."
        if verdict == "none"
        else f"{head}: {fact} Every term holds: {words}.{end}"
        if verdict == "compromised"
        else f"{head}: {fact} Not compromised: {reason}. Terms: {words}.{end}"
        for head, verdict, reason, site, fact, words, end in zip(
            heads, verdicts, why, sited.tolist(), facts, said.tolist(), after.tolist(), strict=True
        )
    ]


def _facts(cols: Columns, rows: np.ndarray, sites: list[str], verdicts: list[str]) -> list[str]:
    """What each group of some rows did, in neutral words (judging words only where the
    verdict is ``compromised``), a part at a time."""
    m = len(rows)
    n_sites = _ints(cols["n_sites"][rows]) if m else []
    posts = _ints(cols["n_signature_posts"][rows]) if "n_signature_posts" in cols else [0] * m
    linked = [
        f"{p} posts linked {site}"
        if k == 1
        else f"{p} posts linked {site} and {k - 1} other site{'s' if k > 2 else ''}"
        for p, site, k in zip(posts, [sites[i] for i in rows.tolist()], n_sites, strict=True)
    ]
    known, hours = _known_floats(cols, rows, "span_hours")
    over = _spread(" over " + _durations(hours), known)
    known, gaps = _known_floats(cols, rows, "median_gap_s")
    apart = _spread(", a median " + _fixed(gaps, 0) + " s apart", known)
    apps = _strs(_readable(cols["top_app"][rows].tolist() if "top_app" in cols else [None] * m))
    known, shares = _known_floats(cols, rows, "app_share")
    named = apps[known].astype(bool)
    shown = np.flatnonzero(known)[named]
    through = np.full(m, "", dtype=object)
    through[shown] = ", " + _percents(shares[named]) + " through " + apps[shown]
    novel, novelty = _known_floats(cols, rows[shown], "app_novelty")
    shown, used = shown[novel], 1.0 - novelty
    judged = np.array([verdicts[i] == "compromised" for i in rows[shown].tolist()], dtype=bool)
    abused = judged & (used >= 0.5)
    rogue = judged & ~(used >= 0.5) & (novelty >= 0.9)
    other = ~abused & ~rogue
    app = np.full(m, "", dtype=object)
    app[shown[abused]] = (
        " (an app "
        + _percents(used[abused])
        + " of them had used before: an abused legitimate app)"
    )
    app[shown[rogue]] = " (an app new to " + _percents(novelty[rogue]) + " of them: a rogue app)"
    app[shown[other]] = " (new to " + _percents(novelty[other]) + " of those with earlier posts)"
    return [
        f"{a}{b}{c}{d}{e}."
        for a, b, c, d, e in zip(
            linked, over.tolist(), apart.tolist(), through.tolist(), app.tolist(), strict=True
        )
    ]


def _durations(hours: np.ndarray) -> np.ndarray:
    """Each span in minutes under an hour, in hours under two days, in days beyond."""
    out = np.empty(len(hours), dtype=object)
    short, days = hours < 1, ~(hours < 48)
    out[short] = _fixed(hours[short] * 60, 0) + " min"
    out[days] = _fixed(hours[days] / 24, 1) + " days"
    out[~short & ~days] = _fixed(hours[~short & ~days], 1) + " h"
    return out


def _percents(shares: np.ndarray) -> np.ndarray:
    """Each share as a whole percentage."""
    return _fixed(100 * shares, 0) + "%"


def _as_dict(row: pd.Series | dict) -> dict:
    """The row as a dict: a dict as it is, anything else converted."""
    return row if isinstance(row, dict) else dict(row)


def _row_columns(row: pd.Series | dict) -> Columns:
    """One row as columns of one cell (:data:`Columns`): one row's words are a table's."""
    out = {}
    for name, cell in _as_dict(row).items():
        out[name] = np.empty(1, dtype=object)
        out[name][0] = cell
    return out


def _columns(table: pd.DataFrame, read: tuple[str, ...]) -> Columns:
    """The columns of a table that the words read (those it has), each once (:data:`Columns`)."""
    return {name: table[name].to_numpy() for name in dict.fromkeys(read) if name in table}


def _floats(cells: np.ndarray) -> np.ndarray:
    """Cells as floats, each as :func:`_as_float` reads it (``None``: NaN)."""
    if cells.dtype.kind in "fiub":
        return cells.astype(np.float64)
    return np.array([_as_float(c) for c in cells.tolist()], dtype=np.float64)


def _floats_at(cols: Columns, rows: np.ndarray, name: str) -> np.ndarray:
    """Some rows of a column as floats (:func:`_floats`; no such column: NaN)."""
    return _floats(cols[name][rows]) if name in cols else np.full(len(rows), np.nan)


def _known_floats(cols: Columns, rows: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Which of some rows of a column are known, and their values as floats."""
    known = ~_unknown_at(cols, rows, name)
    return known, (_floats(cols[name][rows[known]]) if known.any() else np.zeros(0))


def _ints(cells: np.ndarray) -> list[int]:
    """Cells as ints (``int`` of each)."""
    return cells.tolist() if cells.dtype.kind in "iu" else [int(c) for c in cells.tolist()]


def _counts(cols: Columns, rows: np.ndarray, name: str, default: int) -> np.ndarray:
    """``int(cell or default)`` of some rows of a column (no such column: the default)."""
    if name not in cols:
        return np.full(len(rows), default, dtype=np.int64)
    cells = cols[name][rows]
    if cells.dtype.kind in "iub":
        return np.where(cells == 0, default, cells).astype(np.int64)
    return np.array([int(c or default) for c in cells.tolist()], dtype=np.int64)


def _strs(texts: list[str]) -> np.ndarray:
    """Texts as an array of ``str`` objects (``+`` adds them element by element)."""
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return out


def _spread(texts: str | list[str] | np.ndarray, where: np.ndarray) -> np.ndarray:
    """Texts set where ``where`` holds (in order), empty elsewhere."""
    out = np.full(len(where), "", dtype=object)
    out[where] = texts
    return out


def _joined(parts: list[np.ndarray], sep: str) -> np.ndarray:
    """Each row's parts (columns of ``str`` objects) that are not empty, joined by ``sep``."""
    rows = np.flatnonzero(np.logical_or.reduce([p.astype(bool) for p in parts]))
    out = np.full(len(parts[0]), "", dtype=object)
    out[rows] = [
        sep.join(filter(None, row)) for row in zip(*(p[rows].tolist() for p in parts), strict=True)
    ]
    return out


def _unknown_at(cols: Columns, rows: np.ndarray, name: str) -> np.ndarray:
    """Which of some rows of a column are unknown (:func:`_is_nan`; no such column: all)."""
    if name not in cols:
        return np.ones(len(rows), dtype=bool)
    cells = cols[name][rows]
    if cells.dtype.kind in "fiub":
        return np.isnan(cells.astype(np.float64))
    return np.array([_is_nan(c) for c in cells.tolist()], dtype=bool)


def _readable(cells: list[Any]) -> list[str]:
    """Names for people to read (``None``: empty; bidirectional controls shown: none in ASCII)."""
    return [
        cell if type(cell) is str and cell.isascii() else neutralise_bidi(str(cell or ""))
        for cell in cells
    ]


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


def _judged_by(table: pd.DataFrame, learned: LearnedRule) -> pd.DataFrame:
    """A judged table with its top rung decided by a learned rule (see :func:`decide`)."""
    ladder_verdict = table["verdict"].to_numpy()
    judged = ladder_verdict != "none"
    probability = learned.probability(table)  # once: compromised() would compute it again
    big = table["n_adopters"].to_numpy() >= learned.min_size
    hit = judged & big & (probability >= learned.threshold)
    table = table.assign(
        ladder_verdict=ladder_verdict,
        verdict=np.where(hit, "compromised", np.where(judged, "coordinated", "none")),
        flagged=hit,
        score=np.where(judged, probability, 0.0),
    )  # fmt: skip
    return table


def decide(
    events: Events,
    clustering: Clustering,
    rule: Rule | None = None,
    *,
    texts: pa.ChunkedArray | pa.Array | None = None,
    learned: LearnedRule | None = None,
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
    learned
        A learned rule (:mod:`research.learned`) to judge the top rung instead of the ladder's
        terms (the ``learned`` method): a group the ladder judges at all (enough adopters, a
        site of its own) is compromised where the learned rule says so, else coordinated; the
        ladder's own verdict is kept in ``ladder_verdict``, the score is the learned
        probability and the reason the learned rule's words.
    """
    from research.evidence import group_evidence, pooled_unions, signature_groups

    rule = rule or Rule()

    def costly_for(evidence: pd.DataFrame) -> np.ndarray:
        # The ladder needs the costly terms only where its verdict hangs on them; a learned rule
        # was fitted on groups with every term measured, so it gets them for every group the
        # ladder judges at all (as experiments.protocol.draw_evidence measures them).
        if learned is None:
            return needs_costly_terms(evidence, rule)
        return np.flatnonzero(
            (evidence["n_sites"].to_numpy() > 0) & (evidence["n_adopters"].to_numpy() >= 2)
        )

    def judge(
        together: list[np.ndarray], previous: tuple[Any, pd.DataFrame] | None = None
    ) -> tuple[Any, pd.DataFrame]:
        groups = signature_groups(events, clustering, rule, together=together)
        evidence = group_evidence(
            events, groups, texts=texts, rule=rule, costly_for=costly_for, previous=previous,
        )  # fmt: skip
        judged = pd.concat([evidence, ladder(evidence, rule, words=False)], axis=1)
        return groups, judged if learned is None else _judged_by(judged, learned)

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
            compromised = _compromised(pooled)  # once, not once per union (741 at 10^7 posts)
            kept = [u for u in unions if compromised[pooled_of[int(u[0])]]]
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
        compromised = _compromised(joined)
        holds = [bool(compromised[group_of[int(t[0])]]) for t in together]
        if all(holds):
            groups, table = joined_groups, joined
        elif any(holds):
            kept = [t for t, h in zip(together, holds, strict=True) if h]
            chosen = [c for c, h in zip(several, holds, strict=True) if h]
            groups, table = judge(kept + standing(chosen), previous=(groups, table))
    table["reason"] = reasons(table, rule)  # the words of the table kept only
    if learned is not None:
        judged = table["ladder_verdict"].to_numpy() != "none"
        said = learned.reasons(table.loc[judged])
        table.loc[judged, "reason"] = pd.Series(said, index=table.index[judged], dtype=object)
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
    if learned is not None:
        table["explanation"] = [
            f"{words} The verdict is the learned rule's (research/learned.py); the ladder's: {v}."
            for words, v in zip(table["explanation"], table["ladder_verdict"], strict=True)
        ]
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
