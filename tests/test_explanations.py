"""Every cluster's explanation reads right: names present, no NaN, judging words only where the
rule judged, and the rule's terms named with their values and thresholds."""

from __future__ import annotations

import re

import pytest

from research.pipeline import run_pipeline
from research.rule import Rule
from research.simulate import simulate
from research.simulate.families import simulate_family
from research.verdicts import TERMS

JUDGING = re.compile(r"hijack|attack|abused|rogue|stolen|victim", re.IGNORECASE)
EMPTY_NAME = re.compile(r"linked\s+(over|,|\.)|through\s*[,(.]|\s{2,}|\(\s*\)")
TERM_NAMES = {t.name for t in TERMS}


@pytest.fixture(scope="module", params=["weheartit", "stolen_credentials"])
def detection(request):
    if request.param == "weheartit":
        sim = simulate("weheartit", seed=0, n_posts=60_000)
    else:
        sim = simulate_family(request.param, seed=3, scale=0.3)
    return run_pipeline(sim.posts, seed=0)


def test_every_explanation_is_complete_and_judges_only_when_the_rule_did(detection):
    rule = Rule.from_dict(detection.params["rule"])
    clusters = detection.clusters
    assert "compromised" in set(clusters["verdict"]) and len(set(clusters["verdict"])) >= 2
    for _, row in clusters.iterrows():
        text = row["explanation"]
        cluster = int(row["cluster"])
        assert text.startswith(f"Cluster {cluster} ("), text
        assert "nan" not in text.lower().split() and "nan " not in text and " nan" not in text, text
        assert "n/a of" not in text and not EMPTY_NAME.search(text), text
        verdict = row["verdict"]
        said = {"none": "not flagged", "coordinated": "coordinated, not flagged"}.get(
            verdict, verdict
        )
        assert f" is {said}" in text.split(":")[0], text
        if verdict != "compromised":
            assert not JUDGING.search(text), text
        if verdict == "compromised":
            assert "Every term holds:" in text
            for term in TERMS[:-1]:
                if term.known(row):
                    limit = getattr(rule, term.threshold)
                    said = str(limit) if isinstance(limit, int) else f"{limit:.2f}"  # a count
                    assert f"{term.name} " in text and said in text, (term.name, text)
        elif verdict == "coordinated":
            # The failed terms, each with its value, comparison and threshold.
            assert text.count("Not compromised:") == 1
            failed = row["reason"]
            assert failed and any(name in failed for name in TERM_NAMES), failed
            assert re.search(r"\d\.\d\d [<>] \d\.\d\d|\(any of: ", failed), failed
        else:
            assert re.search(r"adopters \d+ < \d+|no site of its own", text), text


def test_the_reason_column_names_the_failed_term_with_its_threshold(detection):
    coordinated = detection.clusters[detection.clusters["verdict"] == "coordinated"]
    for reason in coordinated["reason"]:
        for part in reason.split("; "):
            name = part.split(" ")[0]
            assert name in {n.split()[0] for n in TERM_NAMES}, part
