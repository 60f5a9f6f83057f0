"""Importing research.io stays light: DuckDB and pandas load only in the steps that need them."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_research_io_imports_neither_duckdb_nor_pandas() -> None:
    code = (
        "import sys, json, research.io; "
        "print(json.dumps([m for m in ('duckdb', 'pandas', 'matplotlib', 'igraph') if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_reading_a_csv_does_not_import_duckdb(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "posts.csv"
    path.write_text("post_id,account_id,timestamp\n1,a,2021-01-31T12:00:00Z\n")
    code = (
        "import sys, research.io; "
        f"posts, _ = research.io.read({str(path)!r}); assert len(posts) == 1; "
        "print('duckdb' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_ingest_is_the_function_whichever_module_loads_first() -> None:
    # research.io loads its names on first use; the submodule research.io.ingest must not
    # take the place of the function of the same name when it is imported first.
    code = (
        "import research.io.ingest, research.io.loading; from research.io import ingest, read; "
        "import research.io as io, sys; "
        "print(callable(ingest), callable(read), io.ingest is sys.modules['research.io.ingest'].ingest)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "True"]
