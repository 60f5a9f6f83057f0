"""``python -m research inject``: plant a campaign into a posts table, then ``detect`` it."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest

from research.cli import main
from tests.conftest import REPO

V2 = REPO / "tests" / "data" / "twitter-v2"
FILES = ("posts.parquet", "truth_accounts.parquet", "truth_posts.parquet", "scenario.json")


def _error_line(err: str) -> str:
    return next(line for line in err.splitlines() if line.startswith("error: "))


def test_inject_into_raw_exports_then_detect(tmp_path, capsys):
    out = tmp_path / "planted"
    args = ["inject", "--into", str(V2), "--family", "stolen_credentials", "--seed", "0"]
    assert main([*args, "--out", str(out), "--max-victims", "20"]) == 0
    err = capsys.readouterr().err
    assert "1 row rejected (invalid_json 1)" in err, "raw exports are read as detect reads them"
    assert re.search(r"planted 'stolen_credentials-\w+' \(stolen_credentials, seed 0\): ", err)
    assert all((out / name).exists() for name in (*FILES, "rejects.jsonl"))
    meta = json.loads((out / "scenario.json").read_text())
    record = meta["injection"]
    assert meta["seed"] == 0 and record["family"] == "stolen_credentials"
    assert record["victims"]["planted"] == 20 and record["options"]["max_victims"] == 20
    source = record["background"]["source"]
    assert source["inputs"] == [str(V2)] and source["read_as"] == "raw"
    assert str(V2 / "brexit.jsonl") in source["sha256"]
    assert meta["scenario"]["campaigns"][0]["n_victims"] == 20, "the knobs as planted"
    assert record["changed"]["n_victims"] == [43, 20], "and as drawn"

    detected = tmp_path / "detected"
    assert main(["detect", str(out), "--out", str(detected), "--method", "hijack", "--quiet"]) == 0
    metrics = json.loads((detected / "metrics.json").read_text())
    truth = pq.read_table(out / "truth_accounts.parquet").to_pandas()
    assert metrics["n_positive"] == truth["campaign"].notna().sum() == 20
    assert metrics["n_accounts"] == 194 + record["victims"]["fake"]


def test_inject_twice_gives_identical_bytes(tmp_path):
    for name in ("a", "b"):
        args = ["inject", "--into", str(V2), "--family", "unknown_app", "--seed", "3"]
        assert main([*args, "--out", str(tmp_path / name), "--max-victims", "10", "--quiet"]) == 0
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_simulate_folder_keeps_its_truth(tmp_path):
    sim = tmp_path / "sim"
    assert main(["simulate", "--preset", "weheartit", "--n-posts", "10000", "--out", str(sim), "--quiet"]) == 0  # fmt: skip
    out = tmp_path / "planted"
    args = ["inject", "--into", str(sim), "--family", "rogue_app", "--seed", "1"]
    assert main([*args, "--out", str(out), "--max-victims", "15", "--quiet"]) == 0
    campaigns = set(pq.read_table(out / "truth_accounts.parquet").column("campaign").to_pylist())
    assert "diet-pills" in campaigns and len(campaigns - {None}) == 2
    record = json.loads((out / "scenario.json").read_text())["injection"]
    assert record["background"]["truth"] and record["background"]["source"]["truth"] == str(sim)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--family", "giveaway"], "error: 'giveaway' is a benign look-alike family (no campaign); choose one of the attack families: abused_app, rogue_app, stolen_credentials, unknown_app"),
        (["--family", "nope"], "error: 'nope' is not a family; choose one of the attack families"),
        (["--family", "rogue_app", "--max-victims", "0"], "error: --max-victims must be at least 1"),
        (["--family", "rogue_app", "--scale-victims", "-1"], "error: --scale-victims must be positive"),
    ],
)  # fmt: skip
def test_names_and_options_are_refused_before_any_data_is_read(
    tmp_path, capsys, monkeypatch, extra, message
):
    import research.io.loading

    def no_reading(*args, **kwargs):
        raise AssertionError("data was read before the options were checked")

    monkeypatch.setattr(research.io.loading, "load_posts", no_reading)
    assert main(["inject", "--into", str(V2), "--out", str(tmp_path / "o"), *extra]) == 5
    assert _error_line(capsys.readouterr().err).startswith(message)


def test_a_background_too_small_says_what_fits(tmp_path, capsys):
    args = ["inject", "--into", str(V2), "--family", "rogue_app", "--seed", "0", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 5
    line = _error_line(capsys.readouterr().err)
    assert "too small for the rogue_app draw of seed 0" in line
    fits = re.search(r"--max-victims (\d+) \(max_victims= in Python\)", line)
    assert fits and "a sixth of the accounts or fewer (here --max-victims 32)" in line
    assert main([*args, "--out", str(tmp_path / "o"), "--max-victims", fits.group(1)]) == 0


def test_missing_input_is_an_input_error(tmp_path, capsys):
    args = ["inject", "--into", str(tmp_path / "none"), "--family", "rogue_app", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 3
    assert "no such file or directory" in _error_line(capsys.readouterr().err)


def test_methods_lists_the_families(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert (
        "attack families (simulate, inject): abused_app, rogue_app, stolen_credentials, unknown_app"
        in out
    )
