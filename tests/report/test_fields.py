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
