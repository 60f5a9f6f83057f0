"""The evaluation protocol: draws of the scenario families, settings chosen on development draws,
reported on test draws of families they were not chosen on.

* **Draws.** A draw is one platform sampled from a family (``research.simulate.families``) for
  a seed. Development draws use seeds ``1000, 1001, ...``, test draws ``0, 1, ...``: no test
  draw is ever seen while choosing.
* **Two tiers of settings.** *Structural* settings change the groups themselves (the graph:
  neighbours, edge weight floor, resolution; the rule's candidate span and pooling); for each
  structural setting every development draw is computed once and its groups' evidence cached,
  every term included. *Thresholds* of the verdict ladder only change which cached groups are
  compromised, so thousands of them are scored in seconds (:func:`flags`).
* **The choice** (:func:`choose`) maximises, over the training attack families, the mean of
  each family's median and 10th-percentile F1 (:func:`objective`), subject to the issue's
  bars on the development draws: pooled benign false-positive rate at most 0.5%, each benign
  look-alike other than giveaways flagged at most 1% (:func:`excess`). The bars are hard: a
  setting within them beats any setting over them, whatever its F1 (:meth:`Margin.ahead`),
  and they must hold ``margin_se`` bootstrap standard errors up (soft penalties let recall
  buy benign accounts: the development draws showed 0.58%, the held-out ones 0.94%). Random search over the threshold grid, then coordinate ascent; the
  structural settings by coordinate ascent, each scored by its best thresholds. Every search
  starts from the middle of each grid, or from a setting's declared prior (an optional term
  off, the smallest group judged: :func:`middle`), not from the frozen defaults (which
  saw every family), and takes a step only when it gains more than ``margin_se`` bootstrap
  standard errors over resampled development draws (:class:`Margin`): with a handful of draws
  a family, a gain of one draw's luck is noise.
* **Leave-one-family-out.** For each attack family, the choice is made without its draws and
  reported on its test draws (``experiments/generalisation.py``); the package's defaults are
  the choice made on every family (``python -m experiments.select``).

Everything is seeded; caches are keyed by the draw, the settings and a hash of the package's
source, so a code change recomputes them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.pipeline import PipelineSpec, cluster_accounts
from research.rule import Rule

#: Development draws start at this seed; test draws at 0.
DEV_SEED = 1000
#: The decoy kind the issue allows to be reported rather than held to 1% (a share-button
#: giveaway on a fresh microsite is indistinguishable from a campaign by these signals).
REPORTED_ONLY = ("giveaway",)
#: Benign false-positive rate and per-look-alike flagged share the choice must respect.
MAX_FPR = 0.005
MAX_DECOY_SHARE = 0.01
#: Every benign account flagged costs this much per unit of pooled benign FPR, within the
#: bar too: among settings that find the campaigns equally well, the one flagging fewer
#: benign accounts wins (without it the choice is blind to anything under ``MAX_FPR``).
BENIGN_COST = 1.0


@dataclass(frozen=True)
class Draw:
    """One platform: a family, a seed and a scale of the background."""

    family: str
    seed: int
    scale: float = 1.0

    def simulate(self) -> Any:
        from research.simulate.families import simulate_family

        return simulate_family(self.family, self.seed, scale=self.scale)


def dev_draws(families: Iterable[str], n: int, scale: float) -> list[Draw]:
    """``n`` development draws of each family."""
    return [Draw(f, DEV_SEED + k, scale) for f in families for k in range(n)]


def test_draws(families: Iterable[str], n: int, scale: float) -> list[Draw]:
    """``n`` test draws of each family."""
    return [Draw(f, k, scale) for f in families for k in range(n)]


#: The modules a draw's evidence depends on (the simulator, the graph, the detectors, the
#: evidence): a change to any of them recomputes the caches; a change elsewhere (the ladder's
#: words, the report) does not.
EVIDENCE_SOURCES = (
    "simulate",
    "graph",
    "detect",
    "evidence.py",
    "minhash.py",
    "pipeline.py",
    "posts.py",
    "canonical.py",
)

#: The modules a baseline's flags depend on (its evidence is description only).
BASELINE_SOURCES = (
    *(s for s in EVIDENCE_SOURCES if s != "evidence.py"),
    "baselines",
    "methods.py",
    "detection.py",
)
#: The modules any method's run depends on, the package's or a baseline's.
METHOD_SOURCES = (
    *EVIDENCE_SOURCES,
    "baselines",
    "methods.py",
    "detection.py",
    "verdicts.py",
    "rule.py",
    "spec.py",
    "io",
)


@functools.cache
def source_hash(sources: Sequence[str] = EVIDENCE_SOURCES) -> str:
    """Hash of the source a cached result depends on (default :data:`EVIDENCE_SOURCES`; read
    once per process: every run key of an experiment asks for it)."""
    root = Path(__file__).resolve().parents[1] / "research"
    digest = hashlib.sha256()
    for name in sources:
        target = root / name
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def truth_labels(truth: Any, account_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Whether each account is in a planted campaign, and its benign look-alike kind (``""``)."""
    campaign = truth.campaign_of(list(account_ids))
    decoy = truth.decoy_of(list(account_ids))
    positive = np.array([c is not None for c in campaign], dtype=bool)
    return positive, np.array(["" if d is None else str(d) for d in decoy], dtype=object)


@dataclass
class DrawEvidence:
    """What the threshold tier needs from one draw under one structural setting: every group's
    evidence (every term computed), the adopter pairs, and the truth of every account."""

    draw: Draw
    evidence: pd.DataFrame
    pair_account: np.ndarray
    pair_group: np.ndarray
    positive: np.ndarray
    decoy: np.ndarray
    knobs: dict[str, Any] = field(default_factory=dict)


def structural_spec(structural: dict[str, Any]) -> PipelineSpec:
    """The pipeline of the package's method with these structural settings.

    Keys: ``neighbours``, ``max_gap_s``, ``min_weight`` (the edge floor), ``resolution``
    (Leiden CPM), and any field of :class:`research.rule.Rule` (``candidate_span``,
    ``pool_overlap``, ...).
    """
    spec = PipelineSpec()
    rule_keys = set(Rule.__dataclass_fields__)
    rule = {k: v for k, v in structural.items() if k in rule_keys}
    changes: dict[str, Any] = {"rule": replace(spec.rule, **rule)}
    if "neighbours" in structural:
        changes["neighbours"] = int(structural["neighbours"])
    if "max_gap_s" in structural:
        changes["max_gap_s"] = structural["max_gap_s"]
    if "min_weight" in structural:
        changes["filters"] = ({"name": "min_weight", "w": float(structural["min_weight"])},)
    if "resolution" in structural:
        changes["detector_params"] = {
            **spec.detector_params,
            "resolution": float(structural["resolution"]),
        }
    return replace(spec, **changes)


def draw_evidence(draw: Draw, structural: dict[str, Any], *, seed: int = 0) -> DrawEvidence:
    """Simulate a draw, cluster it with the structural settings and measure every group.

    With ``rule.pool == "alongside"`` the groups that pooling makes of several sites are rows
    too, after the groups of one site (:func:`research.verdicts.decide` judges both; an
    account is flagged when any group it adopted is compromised, as :meth:`Pool.flags` reads
    the rows)."""
    from research.evidence import group_evidence, pooled_unions, signature_groups
    from research.graph.events import encode

    sim = draw.simulate()
    spec = structural_spec(structural)
    events = encode(sim.posts)
    clustering = cluster_accounts(events, spec, seed=seed)
    groups = signature_groups(events, clustering, spec.rule)
    texts = sim.posts.column("text").combine_chunks()

    def costly(e: pd.DataFrame) -> np.ndarray:
        return np.flatnonzero((e["n_sites"].to_numpy() > 0) & (e["n_adopters"].to_numpy() >= 2))

    evidence = group_evidence(events, groups, texts=texts, rule=spec.rule, costly_for=costly)
    pair_account, pair_group = groups.pair_account, groups.pair_group
    unions = pooled_unions(events, clustering, spec.rule) if spec.rule.pool == "alongside" else []
    if unions:
        pooled = signature_groups(events, clustering, spec.rule, together=unions)
        pooled_evidence = group_evidence(
            events, pooled, texts=texts, rule=spec.rule, costly_for=costly,
            previous=(groups, evidence),
        )  # fmt: skip
        of = pooled.site_group()
        rows = np.unique([of[int(u[0])] for u in unions])
        row_of = np.full(pooled.n_groups, -1, dtype=np.int64)
        row_of[rows] = len(evidence) + np.arange(len(rows))
        keep = row_of[pooled.pair_group] >= 0
        evidence = pd.concat([evidence, pooled_evidence.iloc[rows]], ignore_index=True)
        pair_account = np.concatenate([pair_account, pooled.pair_account[keep]])
        pair_group = np.concatenate([pair_group, row_of[pooled.pair_group[keep]]])
    positive, decoy = truth_labels(sim.truth, events.accounts.values.to_pylist())
    campaign = sim.scenario.campaigns[0] if sim.scenario.campaigns else None
    knobs = asdict(campaign) if campaign is not None else {}
    knobs.update({f"platform_{k}": v for k, v in asdict(sim.scenario.platform).items()})
    return DrawEvidence(draw, evidence, pair_account, pair_group, positive, decoy, knobs)


#: Evidence columns the thresholds read (the rest is for people).
_KEPT = ("n_adopters", "n_sites", "exclusivity", "outside", "span_share", "active_share", "duty", "history", "routine",
         "repost_share", "link_reuse", "coarse_share", "burst_share", "text_share", "synchrony", "templating", "app_lift",
         "prevalence")  # fmt: skip


def cached_evidence(draw: Draw, structural: dict[str, Any], cache_dir: Path) -> DrawEvidence:
    """:func:`draw_evidence`, read from ``cache_dir`` when it was computed with the same draw,
    settings and source (Parquet and JSON: nothing executable is ever read back)."""
    spec = structural_spec(structural).to_dict()
    key = _key({"draw": asdict(draw), "spec": spec, "source": source_hash()})
    folder = Path(cache_dir) / "evidence" / key
    table_path, meta_path = folder / "groups.parquet", folder / "draw.json"
    if table_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        accounts = pq.read_table(folder / "accounts.parquet").to_pydict()
        pairs = pq.read_table(folder / "pairs.parquet").to_pydict()
        return DrawEvidence(
            draw,
            pq.read_table(table_path).to_pandas(),
            np.asarray(pairs["account"], dtype=np.int64),
            np.asarray(pairs["group"], dtype=np.int64),
            np.asarray(accounts["positive"], dtype=bool),
            np.asarray(accounts["decoy"], dtype=object),
            meta["knobs"],
        )
    result = draw_evidence(draw, structural)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pandas(result.evidence[list(_KEPT)], preserve_index=False), table_path
    )
    pq.write_table(
        pa.table({"account": result.pair_account, "group": result.pair_group}),
        folder / "pairs.parquet",
    )
    pq.write_table(
        pa.table(
            {"positive": result.positive, "decoy": pa.array(result.decoy.tolist(), pa.string())}
        ),
        folder / "accounts.parquet",
    )
    meta_path.write_text(
        json.dumps(
            {"draw": asdict(draw), "structural": structural, "knobs": result.knobs},
            sort_keys=True,
            default=str,
        )
    )
    result.evidence = result.evidence[list(_KEPT)]
    return result


def precompute(
    draws: Sequence[Draw], structural: dict[str, Any], cache_dir: Path, *, n_jobs: int = 1
) -> None:
    """Fill the cache for every draw (in ``n_jobs`` processes; the results do not depend on it)."""
    if n_jobs <= 1:
        for d in draws:
            cached_evidence(d, structural, cache_dir)
        return
    from joblib import Parallel, delayed

    Parallel(n_jobs=n_jobs)(delayed(_fill)(d, structural, str(cache_dir)) for d in draws)


def _fill(draw: Draw, structural: dict[str, Any], cache_dir: str) -> None:
    cached_evidence(draw, structural, Path(cache_dir))


def _key(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:20]


@dataclass
class Pool:
    """Many draws' evidence stacked, so that one threshold setting is scored on all at once."""

    draws: list[Draw]
    evidence: pd.DataFrame
    group_draw: np.ndarray
    pair_group: np.ndarray  # global group index of each pair
    pair_key: np.ndarray  # global account index of each pair
    positive: np.ndarray
    decoy: np.ndarray
    account_draw: np.ndarray

    @classmethod
    def of(cls, items: Sequence[DrawEvidence]) -> Pool:
        tables, group_draw, pair_group, pair_key, positive, decoy, account_draw = (
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        )
        g_base = a_base = 0
        for d, item in enumerate(items):
            tables.append(item.evidence)
            group_draw.append(np.full(len(item.evidence), d))
            pair_group.append(item.pair_group + g_base)
            pair_key.append(item.pair_account + a_base)
            positive.append(item.positive)
            decoy.append(item.decoy)
            account_draw.append(np.full(len(item.positive), d))
            g_base += len(item.evidence)
            a_base += len(item.positive)
        cat = np.concatenate
        return cls(
            [i.draw for i in items],
            pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(_KEPT)),
            cat(group_draw) if group_draw else np.zeros(0, int),
            cat(pair_group) if pair_group else np.zeros(0, int),
            cat(pair_key) if pair_key else np.zeros(0, int),
            cat(positive) if positive else np.zeros(0, bool),
            cat(decoy) if decoy else np.zeros(0, object),
            cat(account_draw) if account_draw else np.zeros(0, int),
        )

    @functools.cached_property
    def decoy_members(self) -> dict[str, np.ndarray]:
        """The benign accounts of each look-alike kind (computed once: the search asks for
        them with every setting it scores)."""
        kinds = sorted({k for k in self.decoy if k})
        return {k: (self.decoy == k) & ~self.positive for k in kinds}

    def scores(self, rule: Rule) -> np.ndarray:
        """Each account's score under the rule: the highest score of the groups it adopted."""
        from research.verdicts import score

        group_score = score(self.evidence, rule)
        out = np.zeros(len(self.positive))
        np.maximum.at(out, self.pair_key, group_score[self.pair_group])
        return out

    def flags(self, rule: Rule) -> np.ndarray:
        """Which accounts (over all draws) the rule flags."""
        from research.verdicts import compromised

        return self.flags_of(compromised(self.evidence, rule))

    def flags_of(self, judged: np.ndarray) -> np.ndarray:
        """Which accounts (over all draws) are adopters of a group ``judged`` compromised (a
        boolean per group of :attr:`evidence`, by any rule: the ladder or a learned one)."""
        flagged = np.zeros(len(self.positive), dtype=bool)
        flagged[self.pair_key[judged[self.pair_group]]] = True
        return flagged

    def group_truth(self) -> np.ndarray:
        """Each group's share of adopters in a planted campaign (0 for a group of none)."""
        n = len(self.evidence)
        adopters = np.bincount(self.pair_group, minlength=n).astype(np.float64)
        hits = np.bincount(
            self.pair_group, weights=self.positive[self.pair_key].astype(np.float64), minlength=n
        )
        return np.divide(hits, adopters, out=np.zeros(n), where=adopters > 0)


def per_draw_metrics(
    pool: Pool, flagged: np.ndarray, score: np.ndarray | None = None
) -> pd.DataFrame:
    r"""F1, precision (NaN when nothing is flagged), recall, benign FPR and flagged share of
    each benign look-alike kind, per draw; with account ``score``\ s also the average
    precision (``ap``) and interpolated precision at recall levels (``pr_0.00`` ...)."""
    n = len(pool.draws)
    d = pool.account_draw
    pos, neg = pool.positive, ~pool.positive

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(d[mask], minlength=n).astype(np.float64)

    tp, fp, fn = count(flagged & pos), count(flagged & neg), count(~flagged & pos)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        fpr = fp / np.maximum(count(neg), 1)
    table = pd.DataFrame(
        {
            "family": [x.family for x in pool.draws],
            "seed": [x.seed for x in pool.draws],
            "n_positive": count(pos).astype(int),
            "n_benign": count(neg).astype(int),
            "n_flagged": count(flagged).astype(int),
            "tp": tp.astype(int), "fp": fp.astype(int), "fn": fn.astype(int),
            "precision": precision, "recall": recall, "f1": f1, "fpr": fpr,
        }
    )  # fmt: skip
    if score is not None:
        from research.evaluate import RECALL_LEVELS, average_precision, precision_at_recall

        ap, curves = [], []
        for k in range(n):
            mine = d == k
            ap.append(average_precision(score[mine], pos[mine]))
            curves.append(precision_at_recall(score[mine], pos[mine]))
        table["ap"] = ap
        for j, level in enumerate(RECALL_LEVELS):
            table[f"pr_{level:.2f}"] = [c[j] for c in curves]
    shares: dict[str, np.ndarray] = {}
    for kind, members in pool.decoy_members.items():
        total = count(members)
        shares[f"flagged_{kind}"] = np.where(
            total > 0, count(members & flagged) / np.maximum(total, 1), np.nan
        )
        shares[f"n_{kind}"] = total.astype(int)
    return pd.concat([table, pd.DataFrame(shares)], axis=1) if shares else table


def objective(metrics: pd.DataFrame, attack: Sequence[str]) -> float:
    """The choice's score on development draws: the mean over the training attack families of
    (median F1 + 10th-percentile F1) / 2, minus the pooled benign FPR (``BENIGN_COST``), 20 x
    the pooled benign FPR above 0.5% and 5 x each benign look-alike's flagged share above 1%
    (giveaways count only in the pooled FPR). The bars themselves are hard constraints of the
    search (:func:`excess`, :meth:`Margin.ahead`); the penalties only grade the scores that
    are reported of a setting over them."""
    return float(objectives(metrics, attack, np.arange(len(metrics))[None, :])[0])


def objectives(metrics: pd.DataFrame, attack: Sequence[str], rows: np.ndarray) -> np.ndarray:
    """:func:`objective` of many resamples at once: ``rows`` is a (resamples x draws) matrix
    of row positions in ``metrics`` in which every column holds draws of one family."""
    family = metrics["family"].to_numpy()[rows[0]]
    f1 = metrics["f1"].fillna(0.0).to_numpy()[rows]
    parts = [
        0.5 * (np.median(f1[:, mine], axis=1) + np.quantile(f1[:, mine], 0.1, axis=1))
        for mine in (family == fam for fam in attack)
        if mine.any()
    ]
    score = np.mean(parts, axis=0) if parts else np.zeros(len(rows))
    fpr, shares = _benign_rates(metrics, rows)
    score = score - BENIGN_COST * fpr - 20 * np.maximum(0.0, fpr - MAX_FPR)
    for share in shares.values():
        score = score - 5 * np.maximum(0.0, share - MAX_DECOY_SHARE)
    return score


def _benign_rates(
    metrics: pd.DataFrame, rows: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The pooled benign FPR and the flagged share of each benign look-alike held to the bar
    (not giveaways), per resample (``rows`` as in :func:`objectives`)."""

    def summed(values: pd.Series) -> np.ndarray:
        # A draw without the column's kind (a run read back from JSON) counts 0, as a sum
        # over a pandas column that skips missing values would.
        return values.fillna(0).to_numpy(dtype=np.float64)[rows].sum(axis=1)

    fpr = summed(metrics["fp"]) / np.maximum(summed(metrics["n_benign"]), 1)
    shares = {}
    for column in [c for c in metrics if c.startswith("flagged_")]:
        kind = column.removeprefix("flagged_")
        if kind in REPORTED_ONLY:
            continue
        total = summed(metrics[f"n_{kind}"])
        shares[kind] = summed(metrics[column].fillna(0) * metrics[f"n_{kind}"]) / np.maximum(
            total, 1
        )
    return fpr, shares


def excess(metrics: pd.DataFrame, k: float = 0.0, rows: np.ndarray | None = None) -> float:
    """How far a setting's development draws are over the issue's bars: the pooled benign FPR
    above ``MAX_FPR`` plus each look-alike's (giveaways but) flagged share above
    ``MAX_DECOY_SHARE``, each rate taken ``k`` bootstrap standard errors above its estimate
    over the resamples ``rows`` (as in :func:`objectives`). Zero means the setting is
    admissible (:meth:`Margin.ahead`). With eight draws of a look-alike, one draw's flagged
    organisation moves its share by a point, so the bar must hold with room for that luck
    (it cannot warn of what no development draw shows: a fold whose development draws
    flagged no organisation flagged a whole one in a held-out draw)."""
    fpr, shares = _benign_rates(metrics, np.arange(len(metrics))[None, :])
    rates = [float(fpr[0]), *(float(v[0]) for v in shares.values())]
    if k > 0 and rows is not None and len(rows) > 1:
        fpr_r, shares_r = _benign_rates(metrics, rows)
        spread = [np.std(fpr_r, ddof=1), *(np.std(v, ddof=1) for v in shares_r.values())]
        rates = [r + k * float(sd) for r, sd in zip(rates, spread, strict=True)]
    bars = [MAX_FPR] + [MAX_DECOY_SHARE] * len(shares)
    return float(sum(max(0.0, r - bar) for r, bar in zip(rates, bars, strict=True)))


@dataclass(frozen=True)
class Choice:
    """A chosen setting: structural settings, thresholds, and how it scored."""

    structural: dict[str, Any]
    thresholds: dict[str, Any]
    score: float
    attack: tuple[str, ...]
    trace: list[dict[str, Any]] = field(default_factory=list, compare=False)
    #: How far over the bars its development draws are, ``margin_se`` standard errors up
    #: (:meth:`Margin.excess`; 0: admissible).
    excess: float = 0.0

    def rule(self) -> Rule:
        return replace(structural_spec(self.structural).rule, **self.thresholds)

    def params(self) -> dict[str, Any]:
        """The method's parameters (a :class:`PipelineSpec` as plain data)."""
        return replace(structural_spec(self.structural), rule=self.rule()).to_dict()


def middle(space: dict[str, Sequence[Any]], priors: dict[str, Any] | None = None) -> dict[str, Any]:
    """The start of every search: the middle value of each setting's grid (the upper one of
    two), fixed before any draw is seen, or the setting's declared prior (``priors``, which
    must be a value of its grid). Starting from the frozen defaults instead would let every
    leave-one-family-out search start from a choice that saw the held-out family.

    The start is the search's prior: :func:`settle` returns a setting to it unless the draws
    tell them apart. A grid's middle is a fair prior for a bar that every verdict needs; it
    is not one for a term that can be switched off (its prior is off: a term earns its place
    on the development draws) or for the smallest group judged (a larger prior would leave
    campaigns smaller than it unjudgeable whenever the draws are too few to show them).

    >>> middle({"min_size": [3, 4, 5, 6, 8], "max_span": [0.3, 0.4, 0.5]}, {"min_size": 3})
    {'min_size': 3, 'max_span': 0.4}
    """
    priors = dict(priors or {})
    for k, v in priors.items():
        if k not in space:
            raise KeyError(f"prior for {k!r}: not a searched setting (searched: {sorted(space)})")
        if v not in list(space[k]):
            raise ValueError(f"prior {k}={v!r} is not a value of its grid {list(space[k])}")
    return {k: priors.get(k, list(values)[len(values) // 2]) for k, values in space.items()}


def resamples(metrics: pd.DataFrame, n: int, seed: int) -> np.ndarray:
    """``n`` bootstrap resamples of the draws (rows of ``metrics``), each family's draws drawn
    with replacement among that family's, so that every resample has every family."""
    rng = np.random.default_rng(seed)
    by_family = [
        np.flatnonzero(metrics["family"].to_numpy() == f) for f in metrics["family"].unique()
    ]
    return np.vstack(
        [np.concatenate([rng.choice(rows, size=len(rows)) for rows in by_family]) for _ in range(n)]
    )


class Margin:
    """When a candidate setting beats the best so far by more than chance: its gain in the
    objective must exceed ``k`` standard errors of the gain over bootstrap resamples of the
    draws (paired: both settings scored on the same resampled draws). With 6 or 8 draws a
    family, the 10th percentile is nearly the minimum, and settings that win by one draw's
    luck moved the leave-one-family-out choices far from each other; this is the one-standard-
    error rule of model selection (Hastie, Tibshirani and Friedman, 2009, sec. 7.10)
    applied to each step of the search. ``k = 0`` accepts any gain. Before any score, the
    issue's bars decide (:meth:`ahead`): a setting over them never beats one within them."""

    def __init__(self, attack: Sequence[str], k: float, n_resamples: int, seed: int) -> None:
        self.attack, self.k, self.n, self.seed = list(attack), float(k), int(n_resamples), seed
        self._rows: np.ndarray | None = None

    def rows(self, metrics: pd.DataFrame) -> np.ndarray | None:
        """The bootstrap resamples of the draws (drawn once; every setting is scored on the
        same draws), or None without resampling."""
        if self.k <= 0 or self.n <= 1:
            return None
        if self._rows is None:
            self._rows = resamples(metrics, self.n, self.seed)
        return self._rows

    def excess(self, metrics: pd.DataFrame) -> float:
        """:func:`excess` with the rates ``k`` standard errors up: the bars must hold with
        the same room a step's gain must clear."""
        return excess(metrics, self.k, self.rows(metrics))

    def ahead(
        self, new: pd.DataFrame, new_score: float, old: pd.DataFrame, old_score: float
    ) -> bool | None:
        """Feasibility first: the bars (pooled benign FPR 0.5%, 1% of each look-alike on the
        development draws, :meth:`excess`) are constraints, not costs a recall gain can buy
        back. A setting within them beats one over them; of two over them, the one less
        over wins (the search walks back to admissible ground from a start over the bars).
        ``None`` when both are within the bars: the score decides (:meth:`beats`)."""
        new_over, old_over = self.excess(new), self.excess(old)
        if new_over > 0 or old_over > 0:
            return new_over < old_over - 1e-12
        return None

    def better(
        self, new: pd.DataFrame, new_score: float, old: pd.DataFrame, old_score: float
    ) -> bool:
        """:meth:`ahead`, then any gain in score (no margin): the random phase's order."""
        first = self.ahead(new, new_score, old, old_score)
        return first if first is not None else new_score > old_score + 1e-12

    def best(self, scored: Sequence[tuple[pd.DataFrame, float]]) -> int:
        """The position of the best of several (metrics, score) pairs by :meth:`better`
        (ties: the earlier)."""
        top = 0
        for i in range(1, len(scored)):
            if self.better(*scored[i], *scored[top]):
                top = i
        return top

    def beats(
        self, new: pd.DataFrame, new_score: float, old: pd.DataFrame, old_score: float
    ) -> bool:
        first = self.ahead(new, new_score, old, old_score)
        if first is not None:
            return first
        gain = new_score - old_score
        if gain <= 1e-12:
            return False
        rows = self.rows(old)
        if rows is None:
            return True
        gains = objectives(new, self.attack, rows) - objectives(old, self.attack, rows)
        return bool(gain > self.k * float(np.std(gains, ddof=1)))


def choose_thresholds(
    pool: Pool,
    attack: Sequence[str],
    space: dict[str, Sequence[Any]],
    base: Rule,
    *,
    n_random: int,
    seed: int,
    start: dict[str, Any] | None = None,
    margin: Margin | None = None,
) -> tuple[dict[str, Any], float, list[dict[str, Any]], pd.DataFrame]:
    """Random search over ``space`` (its best point by score, or ``start``, default ``base``'s
    values, when none scores higher), then coordinate ascent from there, a candidate replacing
    the best only when ``margin`` says it beats it (default: by any gain); ties and gains
    within the margin keep the earlier candidate, so the choice is deterministic. Then each
    setting that moved goes back to its start where the best does not beat that by the margin
    (:func:`settle`). Returns the thresholds, their score, the trace and their per-draw
    metrics.
    """
    rng = np.random.default_rng(seed)
    names = list(space)
    margin = margin or Margin(attack, 0.0, 0, seed)
    trace: list[dict[str, Any]] = []

    def score_of(values: dict[str, Any]) -> tuple[float, pd.DataFrame]:
        metrics = per_draw_metrics(pool, pool.flags(replace(base, **values)))
        s = objective(metrics, attack)
        trace.append({**values, "score": s})
        return s, metrics

    current = {k: getattr(base, k) for k in names} if start is None else dict(start)
    best = dict(current)
    best_score, best_metrics = score_of(current)
    # The random phase explores: its best point (within the bars first, then by score; ties
    # keep the earlier) starts the ascent. Asking it to beat the start by the margin left the search at the start where
    # the gains need several settings at once (no single step clears the margin), far below
    # points it had seen; :func:`settle` then returns what the draws do not support.
    for _ in range(n_random):
        values = {k: space[k][int(rng.integers(len(space[k])))] for k in names}
        s, m = score_of(values)
        if margin.better(m, s, best_metrics, best_score):
            best, best_score, best_metrics = values, s, m
    improved = True
    while improved:
        improved = False
        for k in names:
            for v in space[k]:
                if v == best[k]:
                    continue
                s, m = score_of({**best, k: v})
                if margin.beats(m, s, best_metrics, best_score):
                    best, best_score, best_metrics, improved = {**best, k: v}, s, m, True
    best, best_score, best_metrics = settle(
        best, (best_score, best_metrics), current, score_of, margin
    )
    return best, best_score, trace, best_metrics


def settle(
    best: dict[str, Any],
    scored: tuple[float, pd.DataFrame],
    start: dict[str, Any],
    score_of: Callable[[dict[str, Any]], tuple[float, pd.DataFrame]],
    margin: Margin,
) -> tuple[dict[str, Any], float, pd.DataFrame]:
    """Put back at its start every setting of ``best`` that the draws do not tell from it:
    in order, each moved setting returns to its start where the best found does not beat the
    result by ``margin`` (the one-standard-error rule, Hastie, Tibshirani and Friedman 2009,
    sec. 7.10: the prior choice unless the data say otherwise). A random point that wins the
    search by some of its settings carries random values of the others (a threshold that no
    development draw reaches); without this step they would be frozen as defaults. Each
    return is measured against the best found, not the last accepted, so the losses do not
    add up past one margin. Returns the settings, their score and per-draw metrics."""
    top_score, top_metrics = scored
    chosen, chosen_score, chosen_metrics = dict(best), top_score, top_metrics
    for k, v in start.items():
        if chosen.get(k) == v:
            continue
        candidate = {**chosen, k: v}
        s, m = score_of(candidate)
        if not margin.beats(top_metrics, top_score, m, s):
            chosen, chosen_score, chosen_metrics = candidate, s, m
    return chosen, chosen_score, chosen_metrics


def choose(
    draws: Sequence[Draw],
    attack: Sequence[str],
    structural_space: dict[str, Sequence[Any]],
    threshold_space: dict[str, Sequence[Any]],
    cache_dir: Path,
    *,
    n_random: int = 400,
    seed: int = 0,
    progress: bool = False,
    n_jobs: int = 1,
    start: str = "middle",
    margin_se: float = 1.0,
    n_resamples: int = 200,
    priors: dict[str, Any] | None = None,
) -> Choice:
    """The settings chosen on ``draws`` for the ``attack`` families (see module docstring).

    ``start`` is ``"middle"`` (every search starts from the middle of each grid, or from a
    setting's declared prior in ``priors``: :func:`middle`) or ``"defaults"`` (from
    :class:`PipelineSpec`'s); a move is taken only when it beats the best so far by
    ``margin_se`` bootstrap standard errors (:class:`Margin`)."""
    if start not in ("middle", "defaults"):
        raise ValueError(f"start must be 'middle' or 'defaults', not {start!r}")
    if start == "middle":
        priors = dict(priors or {})
        base_structural = middle(
            structural_space, {k: v for k, v in priors.items() if k in structural_space}
        )
        threshold_start: dict[str, Any] | None = middle(
            threshold_space, {k: v for k, v in priors.items() if k not in structural_space}
        )
    else:
        base_structural = {k: _default_structural(k) for k in structural_space}
        threshold_start = None
    margin = Margin(attack, margin_se, n_resamples, seed)
    scored: dict[str, tuple[float, dict[str, Any], pd.DataFrame]] = {}

    def evaluate(structural: dict[str, Any]) -> tuple[float, dict[str, Any], pd.DataFrame]:
        key = json.dumps(structural, sort_keys=True)
        if key not in scored:
            precompute(draws, structural, cache_dir, n_jobs=n_jobs)
            items = [cached_evidence(d, structural, cache_dir) for d in draws]
            pool = Pool.of(items)
            base = structural_spec(structural).rule
            thresholds, s, _trace, metrics = choose_thresholds(
                pool, attack, threshold_space, base, n_random=n_random, seed=seed,
                start=threshold_start, margin=margin,
            )  # fmt: skip
            scored[key] = (s, thresholds, metrics)
            if progress:
                print(f"  structural {structural}: {s:.4f}", flush=True)
        return scored[key]

    best = dict(base_structural)
    best_score, best_thresholds, best_metrics = evaluate(best)
    improved = True
    while improved:
        improved = False
        for k, values in structural_space.items():
            for v in values:
                if v == best[k]:
                    continue
                s, t, m = evaluate({**best, k: v})
                if margin.beats(m, s, best_metrics, best_score):
                    best, best_score, best_thresholds, best_metrics = {**best, k: v}, s, t, m
                    improved = True
    trace = [
        {"structural": json.loads(k), "score": v[0], "thresholds": v[1]} for k, v in scored.items()
    ]
    return Choice(
        best, best_thresholds, best_score, tuple(attack), trace, margin.excess(best_metrics)
    )


def load_selection(paper_dir: Path) -> dict[str, Any]:
    """The record of ``python -m experiments.select`` (its settings per fold)."""
    path = paper_dir / "generated" / "selection.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: run `python -m experiments.select` first (it chooses the settings reported here)"
        )
    return json.loads(path.read_text())


def evidence_pool(
    draws: Sequence[Draw], structural: dict[str, Any], cache_dir: Path, n_jobs: int
) -> tuple[Pool, pd.DataFrame]:
    """The draws' groups under ``structural`` settings (computed once, then cached), and each
    draw's knobs."""
    precompute(draws, structural, cache_dir, n_jobs=n_jobs)
    items = [cached_evidence(d, structural, cache_dir) for d in draws]
    return Pool.of(items), pd.DataFrame([flat_knobs(i.knobs) for i in items])


def flat_knobs(knobs: dict[str, Any]) -> dict[str, Any]:
    wanted = ("n_victims", "fake_share", "victim_activity", "duration_days", "n_waves", "wave_minutes",
              "posts_per_victim", "timing", "start_day", "n_urls", "n_domains", "shortener_share", "short_links_per_url",
              "query_mutation", "rotate_daily", "host", "text_mode", "camouflage", "camouflage_amount",
              "app_mode", "platform_n_accounts", "platform_days")  # fmt: skip
    return {f"knob_{k}": knobs.get(k) for k in wanted}


def default_structural(name: str) -> Any:
    """The default value of a structural setting (see :func:`structural_spec`)."""
    return _default_structural(name)


def _default_structural(name: str) -> Any:
    spec = PipelineSpec()
    if name == "min_weight":
        return next((float(f["w"]) for f in spec.filters if f.get("name") == "min_weight"), 0.0)
    if name == "resolution":
        return float(spec.detector_params.get("resolution", math.nan))
    if hasattr(spec, name):
        return getattr(spec, name)
    return getattr(spec.rule, name)
