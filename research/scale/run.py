"""The method from a posts Parquet dataset to flagged clusters, on the chosen backend."""

from __future__ import annotations

import time
from pathlib import Path

from research.pipeline import Detection, PipelineSpec, run_pipeline
from research.scale.parquet import read_events


def detect_parquet(
    path: str | Path,
    spec: PipelineSpec | None = None,
    *,
    seed: int | None = 0,
    progress: bool = False,
) -> Detection:
    """Run the method on a posts Parquet file or directory, reading only what it needs.

    Equal to ``run_pipeline(read_posts(path), spec, seed=seed)`` (same clusters,
    evidence and verdicts), with a ``load`` stage (read and encode) in place of
    ``encode`` in the timings.

    Examples
    --------
    >>> import tempfile
    >>> from research.simulate import simulate
    >>> path = simulate("weheartit", seed=0, n_posts=30_000).write(tempfile.mkdtemp()) / "posts.parquet"
    >>> detect_parquet(path, seed=0).flagged_clusters["top_app"].tolist()
    ['We Heart It']
    """
    spec = spec or PipelineSpec()
    started = time.perf_counter()
    events, texts = read_events(path, include_platform_urls=spec.include_platform_urls, include_reposts=spec.include_reposts)
    loaded = round(time.perf_counter() - started, 4)
    detection = run_pipeline(None, spec, seed=seed, events=events, texts=texts, progress=progress)
    detection.timings = {"load": loaded, **{k: v for k, v in detection.timings.items() if k != "encode"}}
    return detection
