"""A learned rule over group evidence: the named alternative to the verdict ladder.

The ladder (:mod:`research.verdicts`) judges a group by thresholds on its terms, each term a
yes or no, all of which must hold. :class:`LearnedRule` learns how the same terms
(:data:`TERMS`) combine instead: gradient-boosted trees (scikit-learn's
``HistGradientBoostingClassifier``) fitted on the groups of development draws where the truth
is known (:func:`fit`), a group judged compromised where its probability reaches
``threshold``. A strong term can then make up for a weak one (a campaign over more of the
window than ``max_span`` allows but far more synchronised than any look-alike), which the
ladder cannot do; the price is a rule whose reasons are learned splits rather than thresholds
an analyst chose. Gradient-boosted trees, not a logistic regression: the campaigns are
conjunctions of terms (synchronised *and* new *and* exclusive), which a sum of weights
misses; on development draws only, leaving each family out in turn, a logistic regression
reached a mean F1 of 0.35 over the held-out families where the trees reached 0.84.

The fitted rule is plain data (each tree's splits and leaf values, the baseline log-odds, the
threshold): it serialises to JSON (:meth:`LearnedRule.to_dict`, nothing executable), is
applied with numpy alone (:meth:`LearnedRule.probability`, checked equal to scikit-learn's),
and explains each verdict by the terms whose splits moved its log-odds most along its paths
(:meth:`LearnedRule.explain`, the per-prediction attribution of Saabas, 2014). Fitting needs
scikit-learn (the ``learned`` extra); applying a fitted rule does not.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> groups = pd.DataFrame({"n_adopters": rng.integers(3, 90, 400),
...                        "synchrony": rng.random(400), "history": rng.random(400)})
>>> campaign = (groups["synchrony"] > 0.6) & (groups["history"] > 0.3)
>>> rule = fit(groups, campaign.to_numpy(), max_iter=20)
>>> bool((rule.compromised(groups) == campaign).mean() > 0.95)
True
>>> rule == LearnedRule.from_dict(rule.to_dict())
True
"""

from __future__ import annotations

import gzip
import itertools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

#: The evidence a learned rule reads: counts (taken as log1p) and shares in [0, 1]
#: (research.evidence). A term missing from a table, or unknown for a group (NaN: no text,
#: no reuse measured), is 0 with its ``known`` indicator 0.
COUNTS = ("n_adopters", "n_sites", "outside")
SHARES = ("exclusivity", "span_share", "active_share", "history", "routine", "repost_share",
          "link_reuse", "coarse_share", "burst_share", "text_share", "synchrony", "templating",
          "app_lift", "prevalence")  # fmt: skip
TERMS = COUNTS + SHARES


def features(evidence: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The design matrix of ``evidence`` (one row per group) and its column names: each count
    as ``log1p``, each share clipped to [0, 1], and for every term a ``known:`` indicator (1
    where the group's value is measured)."""
    n = len(evidence)
    columns, names = [], []
    for term in TERMS:
        if term in evidence:
            values = evidence[term].to_numpy(dtype=np.float64)
        else:
            values = np.full(n, np.nan)
        known = ~np.isnan(values)
        values = np.where(known, values, 0.0)
        values = np.log1p(values.clip(0, None)) if term in COUNTS else values.clip(0.0, 1.0)
        columns += [values, known.astype(np.float64)]
        names += [term, f"known:{term}"]
    matrix = np.column_stack(columns) if n else np.zeros((0, len(names)))
    return matrix, names


@dataclass(frozen=True)
class Tree:
    """One fitted tree as arrays over its nodes: the feature and threshold of each split
    (``x <= threshold`` goes left), the children, whether a node is a leaf, and each node's
    value in log-odds (a leaf's is what the tree adds; an inner node's is what the tree would
    add if it stopped there, for :meth:`LearnedRule.explain`)."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    leaf: tuple[bool, ...]
    value: tuple[float, ...]

    def paths(self, x: np.ndarray) -> list[np.ndarray]:
        """The node each row of ``x`` is at, step by step from the root (one array a depth)."""
        node = np.zeros(len(x), dtype=np.int64)
        feature, threshold = np.asarray(self.feature), np.asarray(self.threshold)
        left, right, leaf = np.asarray(self.left), np.asarray(self.right), np.asarray(self.leaf)
        steps = [node]
        while not leaf[node].all():
            inner = ~leaf[node]
            rows = np.flatnonzero(inner)
            at = node[rows]
            goes_left = x[rows, feature[at]] <= threshold[at]
            node = node.copy()
            node[rows] = np.where(goes_left, left[at], right[at])
            steps.append(node)
        return steps


@dataclass(frozen=True)
class LearnedRule:
    """A fitted tree ensemble over :func:`features`: a group's log-odds are ``baseline`` plus
    the leaf value of each tree; a group of at least ``min_size`` adopters is compromised
    where its probability is at least ``threshold``. ``settings`` records how it was fitted."""

    names: tuple[str, ...]
    trees: tuple[Tree, ...]
    baseline: float
    threshold: float = 0.5
    min_size: int = 3
    settings: tuple[tuple[str, Any], ...] = ()

    def _x(self, evidence: pd.DataFrame) -> np.ndarray:
        matrix, names = features(evidence)
        if tuple(names) != self.names:
            raise ValueError(f"the rule was fitted on features {self.names}, not {tuple(names)}")
        return matrix

    def log_odds(self, evidence: pd.DataFrame) -> np.ndarray:
        """Each group's log-odds of being a compromised campaign."""
        x = self._x(evidence)
        out = np.full(len(x), self.baseline)
        for tree in self.trees:
            out += np.asarray(tree.value)[tree.paths(x)[-1]]
        return out

    def probability(self, evidence: pd.DataFrame) -> np.ndarray:
        """Each group's probability of being a compromised campaign."""
        return 1.0 / (1.0 + np.exp(-self.log_odds(evidence)))

    def compromised(self, evidence: pd.DataFrame) -> np.ndarray:
        """Which groups the rule judges compromised."""
        if len(evidence) == 0:
            return np.zeros(0, dtype=bool)
        big = evidence["n_adopters"].to_numpy() >= self.min_size
        return big & (self.probability(evidence) >= self.threshold)

    def contributions(self, evidence: pd.DataFrame) -> np.ndarray:
        """Per group and term (:data:`TERMS`, a term and its ``known:`` indicator together),
        how much its splits moved the group's log-odds: along each tree's path, the change of
        node value at a split goes to the split's term (Saabas, 2014). Each row sums, with the
        baseline and the trees' root values, to the group's log-odds."""
        x = self._x(evidence)
        out = np.zeros((len(x), len(TERMS)))
        term_of = np.array([TERMS.index(n.removeprefix("known:")) for n in self.names])
        rows = np.arange(len(x))
        for tree in self.trees:
            value, feature = np.asarray(tree.value), np.asarray(tree.feature)
            steps = tree.paths(x)
            for parent, child in itertools.pairwise(steps):
                moved = child != parent
                np.add.at(
                    out,
                    (rows[moved], term_of[feature[parent[moved]]]),
                    value[child[moved]] - value[parent[moved]],
                )
        return out

    def reasons(self, evidence: pd.DataFrame, top: int = 3) -> list[str]:
        """Each group's verdict in words: its probability against the threshold and the
        ``top`` terms that moved its log-odds most (:meth:`contributions`), or why it was not
        judged (fewer adopters than ``min_size``).

        >>> rng = np.random.default_rng(0)
        >>> groups = pd.DataFrame({"n_adopters": rng.integers(3, 90, 200),
        ...                        "synchrony": rng.random(200)})
        >>> rule = fit(groups, (groups["synchrony"] > 0.5).to_numpy(), max_iter=10)
        >>> rule.reasons(groups.iloc[[int(groups["synchrony"].argmax())]])[0][:40]
        'learned p 0.82 >= 0.50 (synchrony +1.52,'
        """
        if len(evidence) == 0:
            return []
        p = self.probability(evidence)
        push = self.contributions(evidence)
        order = np.argsort(-np.abs(push), axis=1, kind="stable")[:, :top]
        size = evidence["n_adopters"].to_numpy()
        words = []
        for k in range(len(evidence)):
            if size[k] < self.min_size:
                words.append(f"adopters {int(size[k])} < {self.min_size}")
                continue
            sign = ">=" if p[k] >= self.threshold else "<"
            said = ", ".join(f"{TERMS[i]} {push[k, i]:+.2f}" for i in order[k])
            words.append(f"learned p {p[k]:.2f} {sign} {self.threshold:.2f} ({said})")
        return words

    def explain(self, evidence: pd.DataFrame, row: int, top: int = 3) -> str:
        """One group's verdict in words (:meth:`reasons` of row ``row``)."""
        return self.reasons(evidence.iloc[[row]], top=top)[0]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return {
            "names": list(self.names),
            "baseline": self.baseline,
            "threshold": self.threshold,
            "min_size": self.min_size,
            "settings": dict(self.settings),
            "trees": [
                {k: list(getattr(t, k)) for k in Tree.__dataclass_fields__} for t in self.trees
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnedRule:
        trees = tuple(
            Tree(**{k: tuple(t[k]) for k in Tree.__dataclass_fields__}) for t in data["trees"]
        )
        return cls(
            names=tuple(data["names"]),
            trees=trees,
            baseline=float(data["baseline"]),
            threshold=float(data["threshold"]),
            min_size=int(data["min_size"]),
            settings=tuple(sorted(dict(data.get("settings", {})).items())),
        )


def fit(
    evidence: pd.DataFrame,
    labels: np.ndarray,
    *,
    threshold: float = 0.5,
    min_size: int = 3,
    max_iter: int = 100,
    max_leaf_nodes: int = 31,
    learning_rate: float = 0.1,
) -> LearnedRule:
    """Fit a :class:`LearnedRule` on groups' ``evidence`` and their ``labels`` (True: the
    group is a compromised campaign): scikit-learn's ``HistGradientBoostingClassifier`` with
    balanced classes (campaign groups are few among the benign), no early stopping (so no
    random validation split: the fit is deterministic), on the groups of at least ``min_size``
    adopters (the ladder's floor: smaller groups are never judged). The trees are copied out as
    arrays; :meth:`LearnedRule.probability` equals the model's ``predict_proba``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    big = evidence["n_adopters"].to_numpy() >= min_size
    matrix, names = features(evidence.loc[big])
    y = np.asarray(labels, dtype=bool)[big]
    if y.all() or not y.any():
        raise ValueError("fitting a learned rule needs groups of both labels")
    model = HistGradientBoostingClassifier(
        max_iter=max_iter,
        max_leaf_nodes=max_leaf_nodes,
        learning_rate=learning_rate,
        class_weight="balanced",
        early_stopping=False,
        random_state=0,
    )
    model.fit(matrix, y)
    trees = tuple(_tree(predictors[0].nodes, learning_rate) for predictors in model._predictors)
    settings = {
        "max_iter": max_iter,
        "max_leaf_nodes": max_leaf_nodes,
        "learning_rate": learning_rate,
    }
    return LearnedRule(
        names=tuple(names),
        trees=trees,
        baseline=float(np.ravel(model._baseline_prediction)[0]),
        threshold=float(threshold),
        min_size=int(min_size),
        settings=tuple(sorted(settings.items())),
    )


def _tree(nodes: np.ndarray, learning_rate: float) -> Tree:
    # scikit-learn's TreePredictor nodes (a private structured array, read only here; the
    # tests check the copy predicts as the model does): leaf values are shrunk by the learning
    # rate, inner values are not; both are put on the leaves' scale. Features have no missing
    # values (:func:`features` fills them), so ``missing_go_to_left`` never applies.
    leaf = nodes["is_leaf"].astype(bool)
    value = np.where(leaf, nodes["value"], nodes["value"] * learning_rate)
    return Tree(
        feature=tuple(int(v) for v in nodes["feature_idx"]),
        threshold=tuple(float(v) for v in nodes["num_threshold"]),
        left=tuple(int(v) for v in nodes["left"]),
        right=tuple(int(v) for v in nodes["right"]),
        leaf=tuple(bool(v) for v in leaf),
        value=tuple(float(v) for v in value),
    )


def shipped() -> tuple[LearnedRule, dict[str, Any]]:
    """The learned rule the package ships (``research/rules/learned.json.gz``), fitted on every
    family's development draws by ``python -m experiments.learned --freeze``, and what it was
    fitted on (profile, draws, the structural settings of the groups it judges)."""
    path = resources.files("research") / "rules" / "learned.json.gz"
    data = json.loads(gzip.decompress(path.read_bytes()))
    return LearnedRule.from_dict(data["rule"]), data["fitted_on"]
