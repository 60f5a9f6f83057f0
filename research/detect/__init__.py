"""Community detection on account projections."""

from __future__ import annotations

from research.detect.clustering import Clustering, canonical_membership
from research.detect.communities import DETECTORS, detect, seeded

__all__ = ["DETECTORS", "Clustering", "canonical_membership", "detect", "seeded"]
