"""LFR sanity check: the detectors recover planted communities at low mixing and fail past ~0.5."""

from __future__ import annotations

from research.detect.lfr import LFR_DETECTORS, LFRSpec, lfr_nmi


def test_nmi_against_mixing_has_the_known_shape():
    spec = LFRSpec(
        n=500, tau1=2.5, average_degree=10, max_degree=40, min_community=20, max_community=60
    )
    table = lfr_nmi([0.1, 0.3, 0.7], spec=spec, seeds=[0])
    nmi = table.pivot(index="mu", columns="detector", values="nmi")
    assert set(nmi.columns) == set(LFR_DETECTORS)
    for detector in nmi.columns:
        low, mid, high = nmi.loc[0.1, detector], nmi.loc[0.3, detector], nmi.loc[0.7, detector]
        assert low >= 0.95, (detector, low)  # near 1 at low mixing
        assert mid >= 0.8, (detector, mid)
        assert high <= 0.3, (detector, high)  # past 0.5 communities have more edges out than in
        assert low >= mid >= high
