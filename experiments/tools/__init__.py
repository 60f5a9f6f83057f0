"""The paper's tooling: LaTeX tables and result macros (:mod:`~experiments.tools.latex`), tidy
results with a run cache and confidence intervals (:mod:`~experiments.tools.results`), every method
on every preset (:mod:`~experiments.tools.comparison`), and the cost of a method in time and memory
(:mod:`~experiments.tools.harness`), and bootstrap intervals and an undefined precision
(:mod:`~experiments.tools.stats`).

Plain functions over pandas and the library: no Hydra here, so that the entry points of
``experiments/`` and the tests use them alike. The library (``research``) never imports them.
"""
