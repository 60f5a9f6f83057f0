"""Reports and exports for people: the self-contained HTML report and graph files for Gephi.

- :func:`write_report` writes ``report.html`` (summary, network view, one
  card per flagged cluster); :class:`ReportCaps` bounds its size.
- :func:`write_exports` writes GraphML, GEXF and CSV node/edge lists with
  cluster labels and evidence as attributes.
- :class:`~research.report.profile.Profiler` computes what a cluster did
  (apps, URLs, timeline, sample posts), for the report and the notebook API.
"""

from __future__ import annotations

from research.report.exports import EXPORT_FORMATS, export_graph, graph_tables, write_exports
from research.report.html import ReportCaps, render_report, write_report

__all__ = [
    "EXPORT_FORMATS",
    "ReportCaps",
    "export_graph",
    "graph_tables",
    "render_report",
    "write_exports",
    "write_report",
]
