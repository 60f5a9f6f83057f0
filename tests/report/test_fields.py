"""Every column a registered method writes has words: the one place new fields get them."""

from __future__ import annotations

import pytest

from research.methods import METHODS, run_method
from research.outputs import clusters_table
from research.report.fields import FIELDS, describe, format_value


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_column_of_every_methods_clusters_table_has_words(small, name):
    detection = run_method(name, small.posts, {}, seed=0)
    missing = [c for c in clusters_table(detection).columns if c not in FIELDS]
    assert not missing, f"add words for {missing} to research/report/fields.py:FIELDS"


def test_words_are_unique_and_kinds_known():
    words = [f.words for f in FIELDS.values()]
    assert len(set(words)) == len(words), "two fields read the same"
    kinds = {"count", "share", "number", "days", "seconds", "time", "flag", "text", "list"}
    assert {f.kind for f in FIELDS.values()} <= kinds
    assert describe("some_new_field").words == "some new field"
    assert format_value(None, "share") == "n/a" and format_value(0.5, "share") == "50%"


def test_readme_documents_every_column_the_package_writes(small):
    """README's table of the columns of clusters.csv and accounts.csv is the generated one."""
    from experiments.config import REPO
    from research.report.fields import ACCOUNT_FIELDS, columns_markdown

    detection = run_method("hijack", small.posts, {}, seed=0)
    clusters = list(clusters_table(detection).columns)
    accounts = list(detection.accounts.columns)  # accounts.csv as write_detection writes it
    assert set(accounts) <= set(ACCOUNT_FIELDS)
    table = columns_markdown(clusters, accounts)
    assert table in (REPO / "README.md").read_text(), (
        "README's column table is stale; replace it with research.report.fields.columns_markdown"
    )
