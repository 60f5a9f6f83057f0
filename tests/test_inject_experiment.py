"""``experiment=inject``: every attack family planted into a Parquet the user names, every
method's F1 and benign FPR on it (the default background, the shipped real sample, runs in
``tests/test_sweeps.py`` with every experiment)."""

from __future__ import annotations

import json

import pandas as pd
from hydra import compose, initialize_config_dir

from experiments.check import check_experiment
from experiments.experiment import PROTOCOL_KINDS, run_experiment
from research.posts import write_posts
from research.simulate import simulate
from research.simulate.families import ATTACK_FAMILIES
from research.simulate.inject import without_campaigns
from tests.conftest import REPO


def _run(root, *extra):
    overrides = [
        "experiment=inject", "profile=tiny", f"sweep.cache_dir={root / 'cache'}",
        f"sweep.results_dir={root / 'results'}", f"paper_dir={root / 'paper'}", "progress=false",
        *extra,
    ]  # fmt: skip
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        return run_experiment(compose(config_name="config", overrides=overrides), overrides)


def test_inject_runs_on_a_parquet_the_user_names(tmp_path):
    assert "inject" in PROTOCOL_KINDS
    posts, _truth = without_campaigns(simulate("weheartit", seed=1, n_posts=15_000))
    path = write_posts(posts, tmp_path / "mine" / "posts.parquet")
    done = _run(tmp_path, f"data.path={path}", "experiment.methods=[hijack,compa]")
    results = done.results
    assert done.execution.computed == len(ATTACK_FAMILIES) and done.execution.failed == 0
    assert set(results["method"]) == {"hijack", "compa"}
    assert set(results["family"]) == {*ATTACK_FAMILIES, "none"}
    planted = results[results["family"] != "none"]
    assert (planted["n_positive"] > 0).all() and (planted["status"] == "ok").all()
    cap = int(0.1667 * posts.n_accounts())
    assert (planted["victims"] <= cap).all()
    alone = results[results["family"] == "none"]
    assert (alone["n_positive"] == 0).all() and alone["f1"].isna().all()
    assert check_experiment("inject", "tiny", tmp_path / "paper", tmp_path / "results") == []
    record = json.loads(
        (tmp_path / "paper" / "generated" / "provenance" / "inject.json").read_text()
    )
    assert record["background"]["path"] == str(path)
    assert record["background"]["n_accounts"] == posts.n_accounts()
    assert str(path) in record["background"]["sha256"]
    table = pd.read_csv(tmp_path / "paper" / "generated" / "inject.csv")
    assert list(table["method"]) == ["hijack", "compa"]
    tex = (tmp_path / "paper" / "generated" / "inject.tex").read_text()
    assert "F1 stolen credentials" in tex and "FPR, no campaign" in tex
    macros = (tmp_path / "paper" / "generated" / "macros" / "inject.tex").read_text()
    assert "\\defresult{inject/hijack/fpr}" in macros

    written = {
        f: (tmp_path / f).read_bytes()
        for f in (
            "results/tiny/inject.csv",
            "paper/generated/inject.tex",
            "paper/generated/inject.csv",
        )
    }
    again = _run(tmp_path, f"data.path={path}", "experiment.methods=[hijack,compa]")
    assert {f: (tmp_path / f).read_bytes() for f in written} == written, (
        "a cached rerun, same bytes"
    )
    assert again.execution.cached == len(ATTACK_FAMILIES) and again.execution.computed == 0
    pd.testing.assert_frame_equal(again.results, results)
