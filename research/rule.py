"""The rule: every setting that turns clusters into verdicts, in one frozen dataclass.

The settings are chosen by a command on development draws of the scenario
families (``python -m experiments.select``), frozen in
``configs/rule/default.yaml`` with the data they were chosen on, and quoted in
the paper's settings table. Nothing that decides a verdict is a constant in
code. :mod:`research.evidence` reads the first group (how signatures, groups
and adopters are found, and how texts are compared); :mod:`research.verdicts`
the thresholds of the verdict ladder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from research.errors import ConfigError

#: How qualifying pairs of signature sites are linked into groups (:attr:`Rule.pool_linkage`).
POOL_LINKAGES = ("single", "best")
#: When sites that share adopters are judged as one group (:attr:`Rule.pool`).
POOLS = ("none", "before", "alongside")


@dataclass(frozen=True)
class Rule:
    """Settings of the evidence and thresholds of the verdict ladder.

    Attributes
    ----------
    candidate_span, span_quantile
        A site can be a signature when the central ``1 - 2 * span_quantile`` of its links fill
        at most ``candidate_span`` of the observed window (it was born and abandoned within it).
    margin_s
        Slack around a group's span for novelty, adoption and signature posts.
    pool_overlap, pool_cospan
        Candidate sites whose adopters overlap by at least two accounts and ``pool_overlap``
        of the smaller set, and with at least ``pool_cospan`` of the smaller site's links
        within the larger's span (widened by ``margin_s``), are pooled into one group.
    pool
        When sites (and so the clusters) that share adopters are judged as one group:
        ``"none"``, never (each site is judged alone; :func:`research.verdicts.decide` still
        joins a campaign's compromised groups for the reader); ``"before"``, always, instead
        of each site alone (this chains a campaign planted into a real background with its
        victims' own small sites and spoils its evidence); ``"alongside"``, as well as each
        site alone: a pooled group of several sites is judged too, and an account is
        compromised when any group it adopted is (a campaign split over its rotated domains
        and short links, each too small to prove anything, is judged whole; a chain with the
        victims' small sites cannot undo the verdict of the campaign's own site).
        ``True``/``False`` are read as ``"before"``/``"none"``.
    pool_linkage
        How qualifying pairs of sites make groups: ``"single"``, every pair joins (connected
        components: two large sites are one group as soon as one small site qualifies with
        both); ``"best"``, each site joins only the partner larger than itself (more adopters)
        that holds the largest share of its adopters, so groups are trees and small sites
        shared by two groups' adopters cannot bridge them (the chaining of single linkage).
    attach
        Judge every account that linked the signature in the span, not only those the
        graph placed in the group's clusters.
    min_size
        Groups with fewer adopters get ``none``.
    wave_gap, wave_floor, wave_gaps
        How ``active_share`` tells waves from steady posting (:mod:`research.evidence`): a gap
        between a group's consecutive posts counts at most the mean gap of the same posts
        spread evenly over the window, and, in a group with at least ``wave_gaps`` gaps, at
        most ``wave_gap`` times its lower-quartile gap (a pause between waves counts as a short
        gap inside one), but never less than ``wave_floor`` of the window (posts in the same
        second make no quartile to trust). Fewer gaps make no quartile either: the lower
        quartile of three gaps is their smallest, and chance alone puts two of a handful of
        posts close together.
    min_exclusivity, max_outside, max_span, max_active, max_duty, min_history, max_routine,
    max_reposts, min_reuse, min_synchrony, min_templating, min_app_lift, min_prevalence
        Thresholds of the terms of the ladder (see :mod:`research.verdicts`); ``max_outside`` is
        a count of accounts, the others shares. ``max_span``, ``max_active`` and ``max_duty``
        make one term (an episode): the signature posts cover at most ``max_span`` of the
        observed window, or, in waves far apart, are active in at most ``max_active`` of it or
        in at most ``max_duty`` of their own span (0 turns either alternative off).
    history_margin_s
        A post counts as outside the span (history) beyond this distance from it.
    routine_share, routine_members, routine_urls
        An adopter is routinely coordinated when, outside the span, it co-posted at least
        ``routine_urls`` URLs with other adopters, each posted (outside the span) by at least
        ``routine_members`` of the group's adopters, and at least ``routine_share`` of all its
        links (at any time) by them: URLs that are theirs.
    template_similarity, minhash_permutations, max_texts
        Near-duplicate texts: MinHash Jaccard threshold on word 3-shingles, the number of
        permutations, and the largest sample of posts compared per group.
    """

    candidate_span: float = 0.8
    span_quantile: float = 0.02
    margin_s: float = 86_400.0
    pool_overlap: float = 0.5
    pool_cospan: float = 0.9
    pool: str = "alongside"
    pool_linkage: str = "best"
    attach: bool = True
    wave_gap: float = 10.0
    wave_floor: float = 0.0025
    wave_gaps: int = 8
    min_size: int = 3
    min_exclusivity: float = 0.7
    max_outside: int = 5
    max_span: float = 0.3
    max_active: float = 0.05
    max_duty: float = 0.0
    min_history: float = 0.0
    max_routine: float = 0.3
    max_reposts: float = 0.2
    min_reuse: float = 0.4
    min_synchrony: float = 0.3
    min_templating: float = 0.5
    min_app_lift: float = 0.5
    min_prevalence: float = 0.005
    history_margin_s: float = 3_600.0
    routine_share: float = 0.9
    routine_members: float = 0.2
    routine_urls: int = 2
    template_similarity: float = 0.5
    minhash_permutations: int = 64
    max_texts: int = 1_000

    def __post_init__(self) -> None:
        if isinstance(self.pool, bool):  # the old switch: pool before judging, or never
            object.__setattr__(self, "pool", "before" if self.pool else "none")
        if self.pool not in POOLS:
            raise ConfigError(f"rule.pool must be one of {', '.join(POOLS)}, got {self.pool!r}")
        if self.wave_gap < 1.0:
            raise ConfigError(f"rule.wave_gap must be at least 1, got {self.wave_gap}")
        if self.wave_gaps < 1:
            raise ConfigError(f"rule.wave_gaps must be at least 1, got {self.wave_gaps}")
        for name in ("candidate_span", "max_span", "max_active", "max_duty", "span_quantile", "pool_overlap", "pool_cospan", "min_exclusivity", "min_history", "max_routine",
                     "max_reposts", "min_reuse", "min_synchrony", "min_templating", "min_app_lift", "min_prevalence", "template_similarity", "routine_share", "routine_members", "wave_floor"):  # fmt: skip
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"rule.{name} must be in [0, 1], got {value}")
        for name in ("margin_s", "history_margin_s", "max_outside"):
            if getattr(self, name) < 0:
                raise ConfigError(f"rule.{name} must be at least 0, got {getattr(self, name)}")
        if self.pool_linkage not in POOL_LINKAGES:
            raise ConfigError(
                f"rule.pool_linkage must be one of {', '.join(POOL_LINKAGES)}, "
                f"got {self.pool_linkage!r}"
            )
        if self.min_size < 1 or self.minhash_permutations < 8 or self.max_texts < 2:
            raise ConfigError(
                "rule.min_size must be >= 1, rule.minhash_permutations >= 8, rule.max_texts >= 2"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for provenance)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Rule:
        """Build from plain data; unknown keys raise :class:`ConfigError` naming the valid ones."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(
                f"rule: unknown key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(known))}"
            )
        return cls(**data)
