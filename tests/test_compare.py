"""The methods table is produced by a command, from the methods' Hydra configs, into the README block."""

from __future__ import annotations

import re

import pandas as pd

from experiments.compare import config_params, main
from experiments.tools.comparison import replace_block


def test_compare_writes_tables_and_replaces_the_readme_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n<!-- methods-table:start -->\nold table\n<!-- methods-table:end -->\n\nafter\n"
    )
    out = tmp_path / "generated"
    argv = ["--seeds", "0", "--presets", "weheartit", "--methods", "joint", "qut_colink", "--n-posts", "30000",
            "--out", str(out), "--readme", str(readme), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    runs = pd.read_csv(out / "methods_runs.csv")
    assert (
        runs["method"].tolist() == ["joint", "qut_colink"] and (runs["preset"] == "weheartit").all()
    )
    table = pd.read_csv(out / "methods_table.csv")
    assert table.loc[table["method"] == "joint", "best_f1"].item()
    text = readme.read_text()
    assert "old table" not in text and text.endswith("after\n")
    assert re.search(r"^\| weheartit +\| joint +\| ", text, re.MULTILINE)  # a row of the table
    assert (out / "methods_table.md").read_text() in text
    assert "\\toprule" in (out / "methods_table.tex").read_text()
    assert (out / "methods_table.provenance.json").exists()
    # the tables can be rebuilt from the runs alone
    (out / "methods_table.md").unlink()
    assert (
        main(
            [
                "--from-runs",
                str(out / "methods_runs.csv"),
                "--out",
                str(out),
                "--no-readme",
                "--quiet",
            ]
        )
        == 0
    )
    assert (out / "methods_table.md").read_text() in readme.read_text()


def test_params_come_from_the_method_configs():
    assert config_params("qut_colink")["window_s"] == 60
    joint = config_params("joint")
    assert joint["detector"] == "leiden" and joint["projection"] == "windows"  # its own graph
    hijack = config_params("hijack")  # from the pipeline groups
    assert hijack["projection"] == "neighbours" and hijack["detector_params"]["objective"] == "CPM"
    assert config_params("multilayer")["multiplex"] == "layers"


def test_replace_block_refuses_text_without_markers():
    import pytest

    with pytest.raises(ValueError, match="markers"):
        replace_block("no markers here", "x")
