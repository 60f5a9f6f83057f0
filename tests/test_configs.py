"""One source of defaults: every default YAML of configs/ says what the dataclasses say.

The method's settings live twice, as dataclass defaults (:class:`~research.pipeline.PipelineSpec`,
:class:`~research.rule.Rule`, :data:`research.methods.JOINT_GRAPH`, each baseline's parameters)
for the library and the notebook, and as YAML for Hydra. These tests compose the configs as a run
does and compare them with the dataclasses, not with numbers: a setting changed in both places
together (``experiments/select.py --freeze``) keeps them green, one changed in one place fails.
"""

from __future__ import annotations

from dataclasses import fields

import pytest
from omegaconf import OmegaConf

from experiments.config import PIPELINE_GROUPS, compose_config, method_params
from research.baselines import BASELINES
from research.methods import JOINT_GRAPH
from research.pipeline import PipelineSpec
from research.rule import Rule


def _composed(*overrides: str) -> dict:
    plain = OmegaConf.to_container(compose_config(list(overrides)), resolve=True)
    assert isinstance(plain, dict)
    return plain


@pytest.mark.parametrize("group", PIPELINE_GROUPS)
def test_each_pipeline_groups_default_yaml_is_the_dataclass_default(group):
    values = _composed()[group]
    known = {f.name for f in fields(PipelineSpec)}
    assert values and set(values) <= known, f"configs/{group}: keys outside PipelineSpec"
    # Each key the group sets, built alone over the defaults, gives the defaults back.
    assert PipelineSpec.from_dict(values) == PipelineSpec(), f"configs/{group} != PipelineSpec()"


def test_the_rule_yaml_names_every_field_of_the_rule():
    rule = _composed()["rule"]["rule"]
    assert set(rule) == {f.name for f in fields(Rule)}
    assert Rule.from_dict(rule) == Rule()


def test_the_default_run_composes_the_packages_method():
    cfg = _composed()
    assert cfg["method"]["name"] == "hijack" and cfg["method"]["params"] == {}
    assert PipelineSpec.from_dict(method_params(cfg)) == PipelineSpec()


@pytest.mark.parametrize(
    ("name", "own"),
    [("joint", JOINT_GRAPH), ("multilayer", {**JOINT_GRAPH, "multiplex": "layers"})],
)
def test_a_pipeline_variants_yaml_is_its_code(name, own):
    composed = PipelineSpec.from_dict(method_params(_composed(f"method={name}")))
    assert composed == PipelineSpec.from_dict(own)
    assert composed != PipelineSpec()  # the variant changes something


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_a_baselines_yaml_is_its_papers_defaults(name):
    cfg = _composed(f"method={name}")
    assert cfg["method"]["name"] == name and not cfg["method"]["uses_pipeline_groups"]
    baseline = BASELINES[name]
    assert baseline.check(method_params(cfg)) == baseline.params()
