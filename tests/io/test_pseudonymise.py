"""Keyed pseudonyms: stable across files and runs, key never written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from research.errors import ConfigError
from research.io import ingest, read, read_key

KEY = b"a-secret-key-of-32-bytes-length!"


def test_pseudonyms_are_stable_across_files_and_hide_ids(data: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    two = tmp_path / "two.jsonl"
    shutil.copy(data / "twitter-v1/original_format_examples.jsonl", one)
    lines = one.read_text().splitlines()
    one.write_text("\n".join(lines[:10]) + "\n")
    two.write_text("\n".join(lines[10:]) + "\n")
    posts, summary = read([one, two], pseudonymise_key=KEY)
    accounts = set(posts.table.column("account_id").to_pylist())
    assert (
        len(accounts) == 1
        and "RobotPrincessFi" not in posts.table.column("account_name").to_pylist()
    )
    again, _ = read(two, pseudonymise_key=KEY)
    assert set(again.table.column("account_id").to_pylist()) == accounts
    other, _ = read(two, pseudonymise_key=b"another-key-of-sufficient-length")
    assert set(other.table.column("account_id").to_pylist()) != accounts
    assert summary.pseudonymised and summary.key_id


def test_key_is_in_no_output(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY + b"\n")
    key = read_key(key_file)
    assert key == KEY
    ingest(
        data / "twitter-v2/streaming_output_with_error.jsonl",
        tmp_path / "out",
        pseudonymise_key=key,
        progress=False,
    )
    for path in (tmp_path / "out").iterdir():
        blob = path.read_bytes()
        assert KEY not in blob and KEY.decode() not in blob.decode("latin-1")
    table = pq.read_table(tmp_path / "out/posts.parquet")
    assert "4602771083" not in table.column("account_id").to_pylist()
    monkeypatch.setenv("HIJACK_CLUSTERS_PSEUDONYM_KEY", KEY.decode())
    assert read_key() == KEY
    key_file.write_bytes(b"short")
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        read_key(key_file)
