from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import research
from research.cli import main, method_config
from research.errors import ConfigError, InputFileError
from tests.conftest import REPO


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    assert (
        main(["simulate", "--preset", "weheartit", "--seed", "0", "--out", str(out), "--quiet"])
        == 0
    )
    return out


def test_detect_writes_verdicts_summary_and_metrics(simulated, tmp_path):
    out = tmp_path / "out"
    assert main(["detect", str(simulated), "--out", str(out), "--quiet", "--no-report"]) == 0
    accounts = pd.read_csv(out / "accounts.csv", dtype={"account": str})
    assert {"account", "cluster", "flagged", "score"} <= set(accounts.columns)
    clusters = pd.read_csv(out / "clusters.csv")
    assert (
        clusters["flagged"].sum() == 1
        and "We Heart It" in clusters.loc[clusters["flagged"], "explanation"].iloc[0]
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_flagged_clusters"] == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["f1"] >= 0.95


def test_detect_twice_gives_identical_bytes(simulated, tmp_path):
    for name in ("a", "b"):
        assert (
            main(
                ["detect", str(simulated), "--out", str(tmp_path / name), "--quiet", "--no-report"]
            )
            == 0
        )
    for file in ("accounts.csv", "clusters.csv", "summary.json", "metrics.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_set_overrides_reach_the_method(simulated, tmp_path):
    out = tmp_path / "o"
    assert (
        main(
            [
                "detect",
                str(simulated),
                "--out",
                str(out),
                "--quiet",
                "--no-report",
                "--set",
                "detector_params.resolution=5.0",
            ]
        )
        == 0
    )
    assert (
        json.loads((out / "summary.json").read_text())["params"]["detector_params"]["resolution"]
        == 5.0
    )


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["detect", "/no/such/file", "--out", "x"], 3, "/no/such/file: no such file"),
        (["detect", "SIM", "--out", "OUT", "--set", "nope=1"], 5, "unknown key(s) nope"),
        (["detect", "SIM", "--out", "OUT", "--method", "magic"], 5, "unknown method 'magic'"),
        (["detect", "SIM", "--out", "OUT", "--set", "novalue"], 5, "KEY=VALUE"),
        (["simulate", "--preset", "nope", "--out", "OUT"], 5, "unknown simulator preset 'nope'"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_code(
    simulated, tmp_path, capsys, argv, code, message
):
    argv = [
        str(simulated) if a == "SIM" else str(tmp_path / "o") if a == "OUT" else a for a in argv
    ]
    assert main([*argv, "--quiet"] if argv[0] == "detect" else argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_not_parquet_input_is_refused_with_the_path(tmp_path, capsys):
    bogus = tmp_path / "posts.parquet"
    bogus.write_text("hello")
    assert main(["detect", str(bogus), "--out", str(tmp_path / "o"), "--quiet"]) == 3
    assert "posts.parquet" in capsys.readouterr().err


def test_version_is_read_from_the_package_metadata(capsys):
    written = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert research.__version__ == importlib.metadata.version("hijack-clusters") == written
    with pytest.raises(SystemExit) as done:
        main(["--version"], prog="hijack-clusters")
    assert done.value.code == 0
    assert capsys.readouterr().out == f"hijack-clusters {written}\n"


def test_the_installed_script_is_named_in_its_usage():
    script = Path(sys.executable).with_name("hijack-clusters")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout == f"hijack-clusters {research.__version__}\n"
    usage = subprocess.run([str(script), "detect"], capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: hijack-clusters detect")


def test_a_verb_that_cannot_be_imported_fails_loudly(monkeypatch):
    # As if research.io could not be imported (a missing dependency, or a bug): the command
    # line stops with the import error instead of running on without its ingest verb.
    monkeypatch.setitem(sys.modules, "research.io.cli", None)
    with pytest.raises(ImportError, match=r"research\.io\.cli"):
        main(["methods"])


def test_config_file_and_overrides_merge_as_in_hydra(tmp_path):
    config = tmp_path / "method.yaml"
    config.write_text("window_s: 600\ndetector_params: {objective: CPM, resolution: 0.3}\n")
    params = method_config(
        config, ["detector_params.resolution=0.5", "pair_budget=2.5e7", "window_s=null"]
    )
    # nested keys merge, later values win, and 2.5e7 is a number (plain YAML reads a string)
    assert params == {
        "window_s": None,
        "detector_params": {"objective": "CPM", "resolution": 0.5},
        "pair_budget": 2.5e7,
    }
    assert method_config(None) == {}


@pytest.mark.parametrize(
    ("text", "overrides", "error", "message"),
    [
        ("a: [1,\n", [], ConfigError, "not valid YAML"),
        ("- 1\n- 2\n", [], ConfigError, "expected a mapping"),
        ("a: 1\na: 2\n", [], ConfigError, "duplicate key"),
        ("a: 1\n", ["b=[1,"], ConfigError, "--config, --set"),
        ("a: 1\n", ["b=${nope}"], ConfigError, "nope"),
        ("a: 1\n", ["=1"], ConfigError, "KEY=VALUE"),
    ],
)
def test_bad_method_config_is_a_config_error(tmp_path, text, overrides, error, message):
    config = tmp_path / "method.yaml"
    config.write_text(text)
    with pytest.raises(error, match=re.escape(message)):
        method_config(config, overrides)


def test_a_missing_config_file_is_an_input_error(tmp_path):
    with pytest.raises(InputFileError, match="no such config file"):
        method_config(tmp_path / "nope.yaml")
