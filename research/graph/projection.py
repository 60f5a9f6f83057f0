"""Co-action projections of the accounts x objects graph onto accounts.

The sparse-product engine lives in :mod:`research.graph.buckets`, the types in
:mod:`research.graph.base`; this module is where callers find them.
"""

from __future__ import annotations

from research.graph.base import OBJECTS, WEIGHTINGS, Actions, Projection, ProjectionSpec, actions
from research.graph.buckets import co_action, combine, multiplex, pair_products

__all__ = [
    "OBJECTS",
    "WEIGHTINGS",
    "Actions",
    "Projection",
    "ProjectionSpec",
    "actions",
    "co_action",
    "combine",
    "multiplex",
    "pair_products",
]
