"""The selection protocol's pieces that decide what is chosen: the objective, the bootstrap
margin a search step must clear, and the neutral start (experiments/protocol.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.generalisation import tune
from experiments.protocol import Margin, middle, objective, objectives, resamples

ATTACK = ["a", "b"]
BASE = ([0.5, 0.6, 1.0, 1.0, 1.0, 1.0], [0.8, 0.9, 1.0, 1.0, 1.0, 1.0])
LUCKY = ([0.65, 0.5, 1.0, 1.0, 1.0, 1.0], [0.8, 0.9, 1.0, 1.0, 1.0, 1.0])


def metrics(f1_a, f1_b, fp=0, n_benign=10_000, decoy=None):
    """Per-draw metrics of two attack families and one benign draw (what per_draw_metrics
    returns, the columns the objective reads)."""
    rows = [{"family": "a", "f1": f, "fp": 0, "n_benign": 1000} for f in f1_a]
    rows += [{"family": "b", "f1": f, "fp": 0, "n_benign": 1000} for f in f1_b]
    rows.append({"family": "news", "f1": np.nan, "fp": fp, "n_benign": n_benign})
    table = pd.DataFrame(rows)
    if decoy is not None:
        flagged, n = decoy
        table["flagged_news"] = [np.nan] * (len(rows) - 1) + [flagged / n]
        table["n_news"] = [0] * (len(rows) - 1) + [n]
    return table


def test_objective_is_median_and_p10_per_family_minus_benign_costs():
    perfect = metrics([1.0] * 6, [1.0] * 6)
    assert objective(perfect, ATTACK) == pytest.approx(1.0)
    one_miss = metrics([0.0] + [1.0] * 5, [1.0] * 6)
    # family a: median 1, p10 = 0.5 (linear between the two lowest of six) -> 0.75; b: 1
    assert objective(one_miss, ATTACK) == pytest.approx((0.75 + 1.0) / 2)
    # 1% pooled benign FPR: 1 x 0.01 + 20 x 0.005 over the bar
    noisy = metrics([1.0] * 6, [1.0] * 6, fp=132, n_benign=1200)  # 132 of 13,200 benign
    assert objective(noisy, ATTACK) == pytest.approx(1.0 - 0.01 - 20 * 0.005)
    # a look-alike flagged at 11%: 5 x 10 points over its 1% bar (and its FPR)
    decoy = metrics([1.0] * 6, [1.0] * 6, fp=11, n_benign=100, decoy=(11, 100))
    fpr = 11 / 12_100
    assert objective(decoy, ATTACK) == pytest.approx(1.0 - fpr - 5 * 0.10)


def test_draws_without_a_look_alike_count_zero_of_it():
    # Runs read back from JSON hold only their own draw's look-alikes: the others are missing.
    table = metrics([1.0] * 6, [1.0] * 6, fp=11, n_benign=100, decoy=(11, 100))
    table.loc[: len(table) - 2, ["flagged_news", "n_news"]] = np.nan
    assert np.isfinite(objective(table, ATTACK))
    assert objective(table, ATTACK) == pytest.approx(1.0 - 11 / 12_100 - 5 * 0.10)


def test_objectives_of_resamples_match_the_objective_of_each():
    table = metrics([0.2, 0.9, 1.0, 0.5, 0.7, 1.0], [1.0, 0.0, 0.4, 1.0, 1.0, 0.8], fp=7)
    rows = resamples(table, 25, seed=3)
    assert rows.shape == (25, len(table))
    # every resample keeps each family's draws in its own columns
    assert (table["family"].to_numpy()[rows] == table["family"].to_numpy()[rows[0]]).all()
    each = [objective(table.iloc[r].reset_index(drop=True), ATTACK) for r in rows]
    assert objectives(table, ATTACK, rows) == pytest.approx(each)
    assert np.array_equal(resamples(table, 25, seed=3), rows)  # seeded


def test_a_gain_from_one_lucky_draw_is_not_a_step_but_a_gain_on_every_draw_is():
    margin = Margin(ATTACK, k=1.0, n_resamples=200, seed=0)
    base = metrics(*BASE)
    # a setting that trades one draw for another: the objective rises, by which draws were drawn
    lucky = metrics(*LUCKY)
    assert objective(lucky, ATTACK) > objective(base, ATTACK)
    assert not margin.beats(lucky, objective(lucky, ATTACK), base, objective(base, ATTACK))
    # every draw of both families improves
    better = metrics([0.9, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0] * 6)
    assert margin.beats(better, objective(better, ATTACK), base, objective(base, ATTACK))
    # without a margin any gain is a step; a loss or a tie never is
    anything = Margin(ATTACK, k=0.0, n_resamples=200, seed=0)
    assert anything.beats(lucky, objective(lucky, ATTACK), base, objective(base, ATTACK))
    assert not anything.beats(base, objective(base, ATTACK), base, objective(base, ATTACK))


def test_searches_start_from_the_middle_of_each_grid():
    assert middle({"min_size": [3, 4, 5, 6, 8], "pool": [True, False], "x": [1]}) == {
        "min_size": 5, "pool": False, "x": 1,
    }  # fmt: skip


def test_declared_priors_replace_the_middle_and_must_be_grid_values():
    space = {"min_size": [3, 4, 5, 6, 8], "max_duty": [0.0, 0.1, 0.2, 0.3], "x": [1, 2, 3]}
    assert middle(space, {"min_size": 3, "max_duty": 0.0}) == {
        "min_size": 3, "max_duty": 0.0, "x": 2,
    }  # fmt: skip
    with pytest.raises(ValueError, match="min_size=7 is not a value of its grid"):
        middle(space, {"min_size": 7})
    with pytest.raises(KeyError, match="min_sise"):
        middle(space, {"min_sise": 3})


def test_the_shipped_selection_declares_its_priors_on_grid_values():
    from pathlib import Path

    from omegaconf import OmegaConf

    root = Path(__file__).resolve().parents[1]
    spec = OmegaConf.load(root / "configs/experiment/select.yaml")["experiment"]
    priors = OmegaConf.to_container(spec["priors"])
    assert priors == {"min_size": 3, "max_duty": 0.0, "min_history": 0.0}
    start = middle(OmegaConf.to_container(spec["thresholds"]), priors)
    assert start["min_size"] == 3 and start["max_duty"] == 0.0 and start["min_history"] == 0.0


def test_baseline_tuning_keeps_its_papers_settings_unless_another_clearly_wins():
    draws = list(range(13))
    tables = {
        "paper": metrics(*BASE),
        "lucky": metrics(*LUCKY),
        "better": metrics([0.9, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0] * 6),
    }

    def runs(names):
        return {(i, j): tables[n].iloc[j].to_dict() for i, n in enumerate(names) for j in draws}

    points = [{"name": "paper"}, {"name": "lucky"}]
    chosen, _ = tune(
        "m", points, draws, ATTACK, runs(["paper", "lucky"]), Margin(ATTACK, 1.0, 200, 0)
    )
    assert chosen == {"name": "paper"}
    chosen, _ = tune("m", points, draws, ATTACK, runs(["paper", "lucky"]))  # no margin: any gain
    assert chosen == {"name": "lucky"}
    # The best point is chosen wherever it comes, not the first that beat the paper's settings.
    points = [{"name": "paper"}, {"name": "lucky"}, {"name": "better"}]
    chosen, score = tune(
        "m", points, draws, ATTACK, runs(["paper", "lucky", "better"]), Margin(ATTACK, 1.0, 200, 0)
    )
    assert chosen == {"name": "better"} and score == pytest.approx(
        objective(tables["better"], ATTACK)
    )


def test_a_setting_the_draws_cannot_tell_apart_goes_back_to_its_start():
    from experiments.protocol import settle

    # "x" decides everything (1 finds the campaigns, 0 does not); "y" changes nothing but a
    # lucky search carried it to 3; "z" trades one draw for another (a gain within the margin).
    def score_of(values):
        if values["x"] != 1:
            table = metrics([0.0] * 6, [0.0] * 6)
        else:
            table = metrics(*(LUCKY if values["z"] == 2 else BASE))
        return objective(table, ATTACK), table

    start = {"x": 0, "y": 1, "z": 1}
    best = {"x": 1, "y": 3, "z": 2}
    margin = Margin(ATTACK, k=1.0, n_resamples=200, seed=0)
    chosen, score, table = settle(best, score_of(best), start, score_of, margin)
    assert chosen == {"x": 1, "y": 1, "z": 1}
    assert score == score_of(chosen)[0]
    pd.testing.assert_frame_equal(table, score_of(chosen)[1])
    # without a margin only ties go back: "z"'s small gain stays
    chosen, _s, _t = settle(best, score_of(best), start, score_of, Margin(ATTACK, 0.0, 0, 0))
    assert chosen == {"x": 1, "y": 1, "z": 2}


def test_failures_lists_ours_below_half_with_their_knobs():
    import pandas as pd

    from experiments.generalisation import failures, summary

    rows = [
        # family, method, seed, f1, n_positive, tp, fp, victims, text
        ("rogue_app", "hijack", 0, 1.00, 40, 40, 0, 40, "templated"),
        ("rogue_app", "hijack", 1, 0.40, 12, 3, 0, 12, "unrelated"),
        ("abused_app", "hijack", 3, None, 7, 0, 0, 10, "templated"),  # nothing flagged: F1 0
        ("abused_app", "hijack", 2, 0.95, 30, 29, 1, 30, "paraphrased"),
        ("abused_app", "compa", 2, 0.10, 30, 2, 0, 30, "paraphrased"),  # a baseline: not listed
    ]
    results = pd.DataFrame(
        [
            {
                "family": f,
                "method": m,
                "seed": s,
                "f1": f1,
                "n_positive": n,
                "tp": tp,
                "fp": fp,
                "recall": 0.0,
                "n_benign": 100,
                "knob_n_victims": v,
                "knob_text_mode": t,
            }
            for f, m, s, f1, n, tp, fp, v, t in rows
        ]
    )
    out = failures(results, ["abused_app", "rogue_app"])
    assert out[["family", "seed"]].values.tolist() == [["abused_app", 3], ["rogue_app", 1]]
    assert out["n_victims"].tolist() == [10, 12] and out["text_mode"].tolist()[0] == "templated"
    table = summary(results, ["abused_app", "rogue_app"], ["hijack", "compa"])
    failed = table.set_index(["family", "method"])["failed"]
    assert failed[("abused_app", "hijack")] == 1 and failed[("abused_app", "compa")] == 1
    assert failed[("rogue_app", "hijack")] == 1


def test_blind_draws_use_seeds_no_other_step_uses_and_summarise_counts_failures():
    from experiments.blind import blind_draws, summarise
    from experiments.protocol import DEV_SEED

    spec = {"first_seed": 5000, "scale": 0.25, "test_draws": 3, "benign_test_draws": 2}
    draws = blind_draws(["abused_app"], ["giveaway"], spec)
    assert [(d.family, d.seed) for d in draws] == [
        ("abused_app", 5000), ("abused_app", 5001), ("abused_app", 5002),
        ("giveaway", 5000), ("giveaway", 5001),
    ]  # fmt: skip
    assert min(d.seed for d in draws) > DEV_SEED + 1000  # past development and test seeds
    metrics = pd.DataFrame(
        {
            "family": ["abused_app"] * 3 + ["giveaway"] * 2,
            "f1": [1.0, 0.2, np.nan, np.nan, np.nan],  # NaN: nothing planted, nothing flagged
            "fp": [0, 1, 0, 3, 0],
            "n_benign": [100, 100, 100, 100, 100],
            "flagged_giveaway": [np.nan, np.nan, np.nan, 0.1, 0.0],
            "n_giveaway": [0, 0, 0, 30, 10],
        }
    )
    table, shares = summarise(metrics, ["abused_app"])
    row = table.iloc[0]
    assert row["failed"] == 2 and row["f1_median"] == 0.2  # the NaN draw counts as F1 0
    assert row["f1_p10"] == pytest.approx(0.04)
    flagged = dict(zip(shares["kind"], shares["flagged"], strict=True))
    assert flagged["giveaway"] == pytest.approx(3 / 40)
    assert flagged["pooled FPR"] == pytest.approx(4 / 500)


def test_the_shipped_blind_checks_use_ranges_no_other_check_uses():
    from omegaconf import OmegaConf

    from experiments.blind import blind_draws
    from experiments.config import compose_config
    from experiments.select import families

    seeds = {}
    for name in ("blind", "blind_full"):
        cfg = compose_config([f"experiment={name}", "profile=quick"])
        spec = OmegaConf.to_container(cfg, resolve=True)["experiment"]
        attack, benign = families(spec)[:2]
        seeds[name] = {d.seed for d in blind_draws(attack, benign, spec)}
        assert min(seeds[name]) >= 11000  # past the development (1000+) and spent ranges
    assert not seeds["blind"] & seeds["blind_full"]


def test_the_bars_are_constraints_no_recall_gain_buys_back():
    from experiments.protocol import excess

    margin = Margin(ATTACK, k=1.0, n_resamples=200, seed=0)
    within = metrics(*BASE, fp=60, n_benign=10_000)  # 60 of 22,000 benign: 0.27%
    # every campaign found, at 0.55% pooled FPR: over the 0.5% bar
    over = metrics([1.0] * 6, [1.0] * 6, fp=121, n_benign=10_000)
    assert excess(within) == 0.0 and excess(over) == pytest.approx(121 / 22_000 - 0.005)
    assert objective(over, ATTACK) > objective(within, ATTACK)  # the soft penalty is outbid
    assert not margin.beats(over, objective(over, ATTACK), within, objective(within, ATTACK))
    assert margin.beats(within, objective(within, ATTACK), over, objective(over, ATTACK))
    assert not margin.better(over, objective(over, ATTACK), within, objective(within, ATTACK))
    # a look-alike over its 1% bar is inadmissible however low the pooled FPR
    decoy = metrics([1.0] * 6, [1.0] * 6, fp=2, n_benign=10_000, decoy=(2, 100))
    assert excess(decoy) == pytest.approx(0.01)
    assert margin.beats(within, objective(within, ATTACK), decoy, objective(decoy, ATTACK))
    # of two settings over the bars, the one less over wins, whatever their F1: the search
    # walks back to admissible ground from a start over them
    worse = metrics(*BASE, fp=200, n_benign=10_000)
    assert margin.beats(over, objective(over, ATTACK), worse, objective(worse, ATTACK))
    assert not margin.beats(worse, objective(worse, ATTACK), over, objective(over, ATTACK))
    # within the bars the score and its margin decide as before
    better = metrics([0.9, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0] * 6, fp=60, n_benign=10_000)
    assert margin.beats(better, objective(better, ATTACK), within, objective(within, ATTACK))


def test_baseline_tuning_respects_the_bars_too():
    draws = list(range(13))
    tables = {
        "paper": metrics(*BASE, fp=200, n_benign=10_000),  # over the bar
        "loud": metrics([1.0] * 6, [1.0] * 6, fp=121, n_benign=10_000),  # over, less
        "quiet": metrics(*LUCKY, fp=10, n_benign=10_000),  # within, lower F1
    }
    names = ["paper", "loud", "quiet"]
    runs = {(i, j): tables[n].iloc[j].to_dict() for i, n in enumerate(names) for j in draws}
    chosen, _ = tune(
        "m", [{"name": n} for n in names], draws, ATTACK, runs, Margin(ATTACK, 1, 200, 0)
    )
    assert chosen == {"name": "quiet"}


def test_the_bars_must_hold_with_a_standard_error_of_room():
    from experiments.protocol import excess

    # eight organisation draws of 100 accounts: 0.75% flagged, all of it in one draw
    rows = [{"family": "a", "f1": 1.0, "fp": 0, "n_benign": 1000} for _ in range(6)]
    rows += [
        {
            "family": "org",
            "f1": np.nan,
            "fp": fp,
            "n_benign": 100,
            "flagged_org": fp / 100,
            "n_org": 100,
        }
        for fp in [6, 0, 0, 0, 0, 0, 0, 0]
    ]
    lumpy = pd.DataFrame(rows)
    assert excess(lumpy) == 0.0  # the point estimate is within the bar
    margin = Margin(["a"], k=1.0, n_resamples=200, seed=0)
    assert margin.excess(lumpy) > 0  # one draw's luck away from it: not admissible
    even = lumpy.assign(fp=[0] * 6 + [1, 1, 1, 1, 1, 1, 0, 0])
    even["flagged_org"] = even["fp"] / 100
    assert margin.excess(even) == 0.0  # the same rate on most draws is
    assert Margin(["a"], k=0.0, n_resamples=200, seed=0).excess(lumpy) == 0.0
