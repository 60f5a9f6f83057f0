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


# --- messages a person reads on the command line -----------------------------------------------


def _error_line(err: str) -> str:
    """The line holding the error as a terminal shows it: what follows the last carriage return
    (a progress bar redraws its line with "\\r"; text written after it without a newline lands on
    the bar's line)."""
    line = next(line for line in err.split("\n") if "error:" in line)
    return line.split("\r")[-1]


def test_csv_with_other_columns_names_them_and_suggests_map(tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_text("user,t,link\nalice,2021-01-31T12:00:00,https://example.com/a\n")
    code = main(["detect", str(export), "--out", str(tmp_path / "o"), "--format", "csv", "--quiet"])
    err = capsys.readouterr().err
    assert code == 4
    assert "missing column(s) post_id, account_id, timestamp; the file has user, t, link" in err
    assert "--map SOURCE=post_id --map SOURCE=account_id --map SOURCE=timestamp" in err
    # ... and --map on detect reads it.
    mapped = ["--map", "link=post_id", "--map", "user=account_id", "--map", "t=timestamp"]
    out = tmp_path / "mapped"
    assert (
        main(["detect", str(export), "--out", str(out), "--format", "csv", "--quiet", *mapped]) == 0
    )
    assert json.loads((out / "summary.json").read_text())["n_accounts"] == 1


def test_messages_spell_the_command_lines_options(tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_text("user,t,link\nalice,2021-01-31T12:00:00,https://example.com/a\n")
    assert main(["detect", str(export), "--out", str(tmp_path / "o"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "Name it with --format (format= in Python)" in err
    assert "--format csv --map SOURCE=COLUMN" in err and "Pass format=" not in err
    typo = ["--map", "user=acount_id"]
    assert main(["detect", str(export), "--out", str(tmp_path / "o"), "--quiet", *typo]) == 5
    err = capsys.readouterr().err
    assert "--map user=acount_id (column_map in Python): no posts column 'acount_id'" in err


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--set", "window_s=-5"], 5, "error: projection.window_s must be positive or null, got -5"),
        (["--set", "nope=1"], 5, "error: pipeline: unknown key(s) nope"),
        (["--method", "magic"], 5, "error: unknown method 'magic'"),
        (["--method", "pacheco", "--set", "nope=1"], 5, "error: method 'pacheco': unknown parameter(s) nope"),
    ],
)  # fmt: skip
def test_configuration_is_refused_before_any_data_is_read(
    simulated, tmp_path, capsys, monkeypatch, extra, code, message
):
    import research.io.loading

    def no_reading(*args, **kwargs):
        raise AssertionError("data was read before the configuration was checked")

    monkeypatch.setattr(research.io.loading, "load_posts", no_reading)
    # Without --quiet: progress bars would be drawn, and the message must still start its line.
    assert main(["detect", str(simulated), "--out", str(tmp_path / "o"), *extra]) == code
    assert _error_line(capsys.readouterr().err).startswith(message)


def test_an_error_during_the_run_starts_its_own_line(simulated, tmp_path, capsys):
    # The windowed graph has a pair budget to exceed (hijack's neighbours are bounded by k).
    refuse = ["--method", "joint", "--set", "pair_budget=10", "--set", "on_budget=refuse"]
    assert (
        main(["detect", str(simulated), "--out", str(tmp_path / "o"), "--no-report", *refuse]) == 6
    )
    err = capsys.readouterr().err
    assert "detect: projection" in err  # the bar was drawn, then cleared before the message
    assert _error_line(err).startswith("error: ")
    assert "stage/s" not in err


def test_detect_on_a_csv_with_rejected_rows_counts_them_and_writes_rejects(tmp_path, capsys):
    export = tmp_path / "posts.csv"
    export.write_text(
        "post_id,account_id,timestamp,urls\n"
        "1,alice,2021-01-31T12:00:00,https://example.com/a\n"
        "2,bob,not a time,https://example.com/a\n"
    )
    out = tmp_path / "out"
    assert main(["detect", str(export), "--out", str(out), "--no-report"]) == 0
    err = capsys.readouterr().err
    assert (
        f"read 1 post by 1 account; 1 row rejected (bad_timestamp 1): see {out / 'rejects.jsonl'}"
        in err
    )
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [(r["record"], r["reason"]) for r in rejects] == [(2, "bad_timestamp")]
    assert not (out / ".rejects.jsonl.partial").exists()


def test_a_baseline_that_flags_every_cluster_prints_the_top_sentences_and_a_count(
    simulated, tmp_path, capsys, monkeypatch
):
    import research.cli

    SHOWN_SENTENCES = 2  # fewer than the components coornet flags on this fixture
    monkeypatch.setattr(research.cli, "SHOWN_SENTENCES", SHOWN_SENTENCES)
    out = tmp_path / "p"
    assert (
        main(["detect", str(simulated), "--out", str(out), "--method", "coornet", "--no-report"])
        == 0
    )
    err = capsys.readouterr().err
    clusters = pd.read_csv(out / "clusters.csv")
    n_flagged = int(clusters["flagged"].sum())
    assert n_flagged > SHOWN_SENTENCES  # coornet flags every component it keeps
    sentences = [line for line in err.splitlines() if line.startswith("  Cluster ")]
    assert len(sentences) == SHOWN_SENTENCES
    top = clusters.sort_values(["score", "cluster"], ascending=[False, True]).head(SHOWN_SENTENCES)
    assert [int(s.split()[1]) for s in sentences] == top["cluster"].tolist()
    rest = n_flagged - SHOWN_SENTENCES
    assert f"  and {rest:,} more flagged (lower scores)" in err
    assert f"every cluster's sentence is in {out / 'clusters.csv'}" in err


def test_keygen_writes_a_private_key_that_ingest_accepts_and_never_overwrites(tmp_path, capsys):
    import stat

    from research.io import read_key

    key = tmp_path / "secrets" / "pseudonym.key"
    assert main(["keygen", "--out", str(key)]) == 0
    assert f"--pseudonymise-key-file {key}" in capsys.readouterr().err
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    value = read_key(key)
    assert value is not None and len(value) == 64 and int(value, 16) >= 0
    before = key.read_bytes()
    assert main(["keygen", "--out", str(key)]) == 3
    assert "exists; a new key would give new pseudonyms" in capsys.readouterr().err
    assert key.read_bytes() == before


def test_simulate_draws_a_scenario_family_by_name(tmp_path, capsys):
    from research.simulate.families import sample_scenario
    from research.truth import read_truth

    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        args = ["simulate", "--family", "unknown_app", "--seed", "4", "--scale", "0.1"]
        assert main([*args, "--out", str(out), "--quiet"]) == 0
    files = sorted(p.name for p in a.iterdir())
    assert "posts.parquet" in files and files == sorted(p.name for p in b.iterdir())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)  # the seed fixes it
    # the scenario written is the family's draw for that seed: its campaign has no app field
    drawn = sample_scenario("unknown_app", 4, scale=0.1).campaigns[0]
    scenario = json.loads((a / "scenario.json").read_text())
    assert drawn.app_mode == "none" and json.dumps(scenario).count(drawn.name) >= 1
    assert len(read_truth(a).campaigns) == 1
    posts = pd.read_parquet(a / "posts.parquet")
    victims = read_truth(a).accounts.to_pandas().query("role == 'hijacked'")["account_id"]
    assert posts.loc[posts["account_id"].isin(victims)].shape[0] > 0
    assert main(["simulate", "--family", "no_such_family", "--out", str(tmp_path / "c")]) != 0
    assert "unknown scenario family 'no_such_family'" in capsys.readouterr().err
    assert (
        main(["simulate", "--family", "unknown_app", "--n-posts", "9", "--out", str(tmp_path)]) != 0
    )
    assert "--scale" in capsys.readouterr().err


def test_a_table_without_domains_or_is_repost_is_told_and_says_so(simulated, tmp_path, capsys):
    import pyarrow.parquet as pq

    table = pq.read_table(simulated / "posts.parquet")
    runs = {}
    for name, dropped in {
        "full": [],
        "no_domains": ["domains"],
        "bare": ["domains", "is_repost"],
    }.items():
        data = tmp_path / name
        data.mkdir()
        pq.write_table(table.drop_columns(dropped), data / "posts.parquet")
        out = tmp_path / f"out_{name}"
        argv = ["detect", str(data), "--out", str(out), "--no-report", "--truth", str(simulated)]
        assert main(argv) == 0
        runs[name] = (capsys.readouterr().err, out)
    # The registered domains told from the URLs are the simulator's: the same verdicts, byte for byte.
    assert (runs["full"][1] / "accounts.csv").read_bytes() == (
        runs["no_domains"][1] / "accounts.csv"
    ).read_bytes()
    assert "note: the input has no domains column" in runs["no_domains"][0]
    assert "no is_repost column" not in runs["no_domains"][0]
    err, out = runs["bare"]
    assert "note: the input has no is_repost column" in err and "opening with 'RT @'" in err
    summary = json.loads((out / "summary.json").read_text())
    assert any("is_repost" in note for note in summary["input"]["notes"])
    assert json.loads((out / "metrics.json").read_text())["f1"] >= 0.9  # the campaign still found


def test_a_parquet_another_tool_wrote_is_read_row_by_row_with_rejects(simulated, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(simulated / "posts.parquet")
    # Times as ISO text with a zone (one of them no time), links joined into one string, no
    # domains, no schema metadata: what a script of another group writes.
    times = pc.strftime(table.column("timestamp"), format="%Y-%m-%dT%H:%M:%SZ").to_pylist()
    times[6] = "yesterday"
    foreign = pa.table(
        {
            "post_id": table.column("post_id"),
            "account_id": table.column("account_id"),
            "timestamp": times,
            "app_name": table.column("app_name"),
            "urls": ["|".join(u) for u in table.column("urls").to_pylist()],
            "text": table.column("text"),
            "is_repost": table.column("is_repost"),
        }
    )
    data = tmp_path / "foreign"
    data.mkdir()
    pq.write_table(foreign, data / "posts.parquet")
    out = tmp_path / "out"
    argv = ["detect", str(data), "--out", str(out), "--no-report", "--truth", str(simulated)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "1 row rejected (bad_timestamp 1)" in err and "read row by row instead" in err
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [(r["record"], r["reason"]) for r in rejects] == [(7, "bad_timestamp")]
    ingest = json.loads((out / "summary.json").read_text())["input"]["ingest"]
    assert (ingest["rows_read"], ingest["rows_written"]) == (table.num_rows, table.num_rows - 1)
    assert ingest["reconciles"]
    assert json.loads((out / "metrics.json").read_text())["f1"] >= 0.95
