"""Experiments: every config composes and plans, every experiment runs end to end at tiny
size, reruns are cached and byte-identical, the registry decides the methods, the paper builds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from scipy import stats

from experiments.check import blank_png, check_experiment, check_pdf
from experiments.config import experiment_names
from experiments.experiment import PROTOCOL_KINDS, run_experiment
from experiments.paper import is_missing
from experiments.sweep import merge_overrides, plan, thin
from experiments.tools.latex import booktabs, escape, macros
from experiments.tools.results import RunCache, run_key, summarise
from research import methods as registry
from research.detect.lfr import LFRSpec, lfr_graph
from tests.conftest import REPO

CONFIGS = str(REPO / "configs")
EXPERIMENTS = experiment_names()
#: Experiments that sweep presets (the protocol's, select and generalisation, are planned by
#: experiments/protocol.py; the choice itself is tested in tests/test_protocol.py).
SWEEPS = [
    n
    for n in EXPERIMENTS
    if OmegaConf.load(REPO / "configs" / "experiment" / f"{n}.yaml").experiment.kind
    not in PROTOCOL_KINDS
]


def _compose(overrides: list[str], **kwargs):
    with initialize_config_dir(config_dir=CONFIGS, version_base="1.3"):
        return compose(config_name="config", overrides=overrides, **kwargs)


def _where(root: Path) -> list[str]:
    """Overrides that keep every file of an experiment under ``root``."""
    return [
        f"sweep.cache_dir={root / 'cache'}",
        f"sweep.results_dir={root / 'results'}",
        f"paper_dir={root / 'paper'}",
        "progress=false",
    ]


def _run(name: str, root: Path, *extra: str):
    overrides = [f"experiment={name}", "profile=tiny", *_where(root), *extra]
    with initialize_config_dir(config_dir=CONFIGS, version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
        return run_experiment(cfg, overrides)


# --- configs -------------------------------------------------------------------------------------


def test_experiments_and_profiles_exist():
    assert {"campaign_size", "camouflage", "app_share", "jitter", "posts_per_account", "scaling",
            "leiden_louvain", "lfr", "case_study", "summary", "calibration"} <= set(EXPERIMENTS)  # fmt: skip
    assert {p.stem for p in (REPO / "configs" / "profile").glob("*.yaml")} == {
        "full",
        "quick",
        "tiny",
    }


@pytest.mark.parametrize("name", SWEEPS)
@pytest.mark.parametrize("profile", ["tiny", "quick", "full"])
def test_every_experiment_composes_and_plans(name, profile):
    overrides = [f"experiment={name}", f"profile={profile}"]
    with initialize_config_dir(config_dir=CONFIGS, version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
        experiment = plan(cfg, overrides)
    keys = [r["key"] for r in experiment.runs]
    assert keys and len(set(keys)) == len(keys), "every run has its own cache key"
    seeds = {r["labels"]["seed"] for r in experiment.runs}
    if profile == "full" and name != "case_study":
        assert len(seeds) >= 5, "the paper's points are means over at least 5 seeds"
    if cfg.experiment.methods == "all":
        assert {r["labels"]["method"] for r in experiment.runs} == set(registry.METHODS)


@pytest.mark.parametrize(
    "launcher, target", [("local_joblib", "JoblibLauncher"), ("slurm", "SlurmLauncher")]
)
def test_launcher_configs_compose(launcher, target):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    cfg = _compose(["experiment=jitter", f"hydra/launcher={launcher}"], return_hydra_config=True)
    assert cfg.hydra.launcher._target_.endswith(target)
    default = _compose([], return_hydra_config=True)
    assert default.hydra.launcher._target_.endswith("BasicLauncher"), (
        "the basic launcher stays the default"
    )


def test_runs_follow_command_line_overrides():
    overrides = ["experiment=jitter", "profile=tiny", "detect=louvain"]
    with initialize_config_dir(config_dir=CONFIGS, version_base="1.3"):
        experiment = plan(compose(config_name="config", overrides=overrides), overrides)
    pipeline_runs = [
        r for r in experiment.runs if r["config"]["method"].get("uses_pipeline_groups")
    ]
    assert pipeline_runs  # the package's method (baselines carry their own parameters)
    assert {r["config"]["detect"]["detector"] for r in pipeline_runs} == {"louvain"}
    assert all("detect=louvain" in r["overrides"] for r in experiment.runs)


def test_axis_values_and_overrides_helpers():
    assert thin([1, 4, 15, 30, 60, 120], 4) == [1, 15, 30, 120]
    assert thin([1, 2], None) == [1, 2]
    assert merge_overrides(["a=1", "b=2"], ["++a=3"]) == ["b=2", "++a=3"]


# --- results, cache, LaTeX -------------------------------------------------------------------------


def test_summarise_gives_bootstrap_intervals_clipped_for_shares():
    # Shares near 1 with 5 seeds: a Student-t interval runs above 1; the bootstrap stays inside.
    runs = pd.DataFrame(
        {"m": ["a"] * 5, "f1": [1.0, 1.0, 1.0, 1.0, 0.6], "seconds": [1, 2, 3, 4, 30]}
    )
    row = summarise(runs, ["m"], ["f1", "seconds"]).iloc[0]
    student = stats.t.interval(0.95, 4, loc=runs["f1"].mean(), scale=stats.sem(runs["f1"]))
    assert student[1] > 1.0 and 0.0 <= row["f1_lo"] <= row["f1"] <= row["f1_hi"] <= 1.0
    assert row["f1_hi"] == 1.0 and row["f1_lo"] == pytest.approx(0.76)  # three 0.6s in 5 draws
    assert row["seconds_hi"] > 10  # not a share: not clipped
    again = summarise(runs, ["m"], ["f1", "seconds"]).iloc[0]
    assert again.equals(row)  # seeded resampling: the same bytes every time


def test_summarise_groups_and_counts():
    runs = pd.DataFrame(
        {"method": ["a", "a", "a", "b"], "x": [1, 1, 2, 1], "f1": [0.5, 0.7, 1.0, 0.2]}
    )
    summary = summarise(runs, ["method", "x"], ["f1"])
    assert summary[["method", "x", "n"]].values.tolist() == [["a", 1, 2], ["a", 2, 1], ["b", 1, 1]]
    assert summary["f1"].tolist() == pytest.approx([0.6, 1.0, 0.2])


def test_cache_key_depends_on_every_config_value_and_entries_survive_corruption(tmp_path):
    assert run_key({"data": {"n_posts": 1}, "seed": 0}) != run_key(
        {"data": {"n_posts": 2}, "seed": 0}
    )
    assert run_key({"seed": 0}, kind="lfr") != run_key({"seed": 0}, kind="detection")
    cache = RunCache(tmp_path)
    cache.put("abcd", {"f1": 0.5})
    cache.path("abcd").write_text('{"f1": 0.')  # a half-written file from a killed job
    assert cache.get("abcd") is None


def test_latex_escapes_attacker_text_and_refuses_bad_keys():
    hostile = "We $ Heart {It} & 100% _free_ \\input{x}"
    text = macros({"case/top_app": escape(hostile)}, preamble=False)
    assert "\\input{x}" not in text and "\\$" in text and "\\%" in text and "\\&" in text
    with pytest.raises(ValueError):
        macros({"bad key}": "1"})
    table = booktabs(pd.DataFrame({"method": ["a"], "F1": ["0.5"]}))
    assert "\\toprule" in table and "\\bottomrule" in table


def test_lfr_graphs_are_seeded_and_detectors_recover_clear_communities():
    import igraph as ig

    from research.detect import detect

    spec = LFRSpec(
        n=250, mu=0.1, average_degree=10, max_degree=25, min_community=10, max_community=25
    )
    a, b = lfr_graph(spec, seed=3), lfr_graph(spec, seed=3)
    assert np.array_equal(a.projection.rows, b.projection.rows) and np.array_equal(
        a.communities, b.communities
    )
    assert a.mixing() < 0.3
    found = detect(a.projection, "leiden", seed=0, min_size=1, objective="modularity").membership
    assert ig.compare_communities(a.communities.tolist(), found.tolist(), method="nmi") > 0.9


def test_blank_png_is_detected(tmp_path):
    import matplotlib.pyplot as plt

    plt.imsave(tmp_path / "blank.png", np.ones((10, 10, 3)))
    assert blank_png(tmp_path / "blank.png")


# --- end to end ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_outputs(tmp_path_factory) -> Path:
    """Every experiment at tiny size, once per session (each writes into the same tree, as make does)."""
    root = tmp_path_factory.mktemp("tiny")
    for name in EXPERIMENTS:
        done = _run(name, root)
        assert done.execution.failed == 0, done.results.loc[
            done.results["status"] != "ok", "error"
        ].tolist()
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_runs_at_tiny_size(tiny_outputs, name):
    problems = check_experiment(name, "tiny", tiny_outputs / "paper", tiny_outputs / "results")
    assert problems == []
    record = json.loads(
        (tiny_outputs / "paper" / "generated" / "provenance" / f"{name}.json").read_text()
    )
    assert record["git"]["commit"] and "numpy" in record["packages"] and record["seeds"]
    assert record["config"]["experiment"]["name"] == name


@pytest.mark.slow
def test_missing_outputs_are_found_by_profile_files_and_registry(tiny_outputs, monkeypatch):
    paper = tiny_outputs / "paper"
    assert not is_missing("jitter", "tiny", paper)
    assert is_missing("jitter", "quick", paper), "outputs of another profile do not count"
    monkeypatch.setitem(registry.METHODS, "new_baseline", registry.joint)
    assert is_missing("jitter", "tiny", paper), (
        "a newly registered method makes 'all' experiments stale"
    )
    assert not is_missing("lfr", "tiny", paper), (
        "experiments with explicit methods do not depend on the registry"
    )


@pytest.mark.slow
def test_detection_numbers_mean_something(tiny_outputs):
    summary = pd.read_csv(tiny_outputs / "results" / "tiny" / "case_study.csv")
    assert summary.loc[0, "f1"] >= 0.8, (
        "the planted We Heart It campaign is found on the case-study platform"
    )
    assert summary.loc[0, "fpr"] <= 0.01
    generated = tiny_outputs / "paper" / "generated"
    assert (
        "\\defresult{case_study/top_app}{We Heart It}"
        in (generated / "macros" / "case_study.tex").read_text()
    )
    assert "\\defresult{methods/count}" in (generated / "macros" / "profile.tex").read_text()
    combined = (generated / "macros.tex").read_text()
    assert all(f"generated/macros/{name}.tex" in combined for name in EXPERIMENTS)


@pytest.mark.slow
def test_rerun_is_cached_and_byte_identical_and_force_recomputes(tmp_path):
    first = _run("jitter", tmp_path)
    files = [
        "results/tiny/jitter.csv",
        "paper/figures/jitter.pdf",
        "paper/figures/jitter.png",
        "paper/generated/macros/jitter.tex",
    ]
    before = {f: (tmp_path / f).read_bytes() for f in files}
    again = _run("jitter", tmp_path)
    assert again.execution.cached == len(first.experiment.runs) and again.execution.computed == 0
    assert {f: (tmp_path / f).read_bytes() for f in files} == before
    forced = _run("jitter", tmp_path, "sweep.force=true")
    assert forced.execution.computed == len(first.experiment.runs)
    assert {f: (tmp_path / f).read_bytes() for f in files} == before


@pytest.mark.slow
def test_fresh_runs_in_parallel_give_the_same_bytes(tmp_path):
    pytest.importorskip("joblib")
    _run("app_share", tmp_path / "a")
    _run("app_share", tmp_path / "b", "sweep.n_jobs=2")
    for f in [
        "results/tiny/app_share.csv",
        "paper/figures/app_share.pdf",
        "paper/figures/app_share.png",
    ]:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


@pytest.mark.slow
def test_shards_fill_the_cache_and_collection_writes_outputs(tmp_path):
    for shard in (0, 1):
        done = _run("camouflage", tmp_path, "sweep.n_shards=2", f"sweep.shard={shard}")
        assert done.paths == [] and not (tmp_path / "results").exists()
    collected = _run("camouflage", tmp_path)
    assert collected.execution.computed == 0 and collected.execution.cached == len(
        collected.experiment.runs
    )
    assert (tmp_path / "paper" / "figures" / "camouflage.png").exists()


@pytest.mark.slow
def test_methods_come_from_the_registry_at_run_time_and_failures_are_recorded(
    tmp_path, monkeypatch
):
    def another(posts, params=None, *, seed=0, events=None, progress=False):
        return registry.joint(
            posts,
            {"detector": "louvain", "detector_params": {"resolution": 1.0}},
            seed=seed,
            events=events,
        )

    def broken(posts, params=None, *, seed=0, events=None, progress=False):
        raise RuntimeError("this baseline is broken")

    monkeypatch.setitem(registry.METHODS, "another_baseline", another)
    monkeypatch.setitem(registry.METHODS, "broken_baseline", broken)
    done = _run("jitter", tmp_path)
    results = done.results
    assert set(results["method"]) == {*registry.METHODS}
    assert (results.loc[results["method"] == "another_baseline", "status"] == "ok").all()
    failed = results[results["method"] == "broken_baseline"]
    assert (failed["status"] == "error").all() and failed["error"].str.contains(
        "this baseline is broken"
    ).all()
    assert (tmp_path / "paper" / "figures" / "jitter.png").exists(), (
        "a failing method does not stop the figure"
    )
    problems = check_experiment("jitter", "tiny", tmp_path / "paper", tmp_path / "results")
    assert any("broken" in p for p in problems), "the check reports failed runs"


@pytest.mark.slow
def test_hydra_entry_point_runs_an_experiment_and_force_flag(tmp_path):
    command = [sys.executable, "-m", "experiments.run", "experiment=posts_per_account", "profile=tiny", *_where(tmp_path),
               f"hydra.run.dir={tmp_path / 'hydra'}"]  # fmt: skip
    first = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert (
        "computed" in first.stdout
        and (tmp_path / "results" / "tiny" / "posts_per_account.csv").exists()
    )
    forced = subprocess.run(
        [*command, "--force"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert forced.returncode == 0 and "0 cached" in forced.stdout


@pytest.mark.slow
def test_paper_builds_from_generated_outputs(tiny_outputs, tmp_path):
    if shutil.which("latexmk") is None:
        pytest.skip(
            "latexmk not installed (apt-get install latexmk texlive-latex-recommended texlive-fonts-recommended)"
        )
    paper = tmp_path / "paper"
    shutil.copytree(tiny_outputs / "paper", paper)
    for name in ("main.tex", "references.bib"):
        shutil.copy(REPO / "paper" / name, paper / name)
    build = subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "main.tex"], cwd=paper,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, (paper / "main.log").read_text(errors="replace")[-3000:]
    if shutil.which("pdfinfo") is not None:
        assert check_pdf(paper / "main.pdf") == []
