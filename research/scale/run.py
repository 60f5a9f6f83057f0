"""The method from a posts Parquet dataset to flagged clusters, on the chosen backend."""

from __future__ import annotations

import time
from pathlib import Path

from research.detection import Detection
from research.pipeline import PipelineSpec, run_pipeline
from research.scale.backend import BackendSpec, dask_client
from research.scale.parquet import read_events


def detect_parquet(
    path: str | Path,
    spec: PipelineSpec | None = None,
    *,
    seed: int | None = 0,
    backend: BackendSpec | None = None,
    progress: bool = False,
) -> Detection:
    """Run the method on a posts Parquet file or directory, reading only what it needs.

    Equal to ``run_pipeline(read_posts(path), spec, seed=seed)`` (same clusters,
    evidence and verdicts) on either backend. With ``backend.name == "dask"``
    reading, encoding, the incidences and the projection run on the Dask cluster
    (:mod:`research.scale.dask_backend`); detection and evidence run here, on the
    projected graph. The timings have a ``load`` stage (read and encode; with Dask
    it includes the projection, reported as ``projection`` inside it).

    Examples
    --------
    >>> import tempfile
    >>> from research.simulate import simulate
    >>> path = simulate("weheartit", seed=0, n_posts=30_000).write(tempfile.mkdtemp()) / "posts.parquet"
    >>> detect_parquet(path, seed=0).flagged["top_app"].tolist()
    ['We Heart It']
    """
    spec = spec or PipelineSpec()
    backend = backend or BackendSpec()
    started = time.perf_counter()
    if backend.name == "dask":
        from research.errors import ConfigError
        from research.scale.dask_backend import dask_project

        if not spec.fused():
            raise ConfigError(
                "backend 'dask' projects bucketed windows summed over layers; "
                f"window_mode={spec.window_mode!r} and multiplex={spec.multiplex!r} need backend=memory"
            )

        streamed, _later = spec.streamed_filters()
        with dask_client(backend) as client:
            events, texts, projection = dask_project(
                client,
                path,
                [spec.projection_spec(layer.objects) for layer in spec.layers],
                [layer.weight for layer in spec.layers],
                include_platform_urls=spec.include_platform_urls,
                include_reposts=spec.include_reposts,
                partitions=backend.partitions,
                **streamed,
            )
        loaded = round(time.perf_counter() - started, 4)
        detection = run_pipeline(
            None,
            spec,
            seed=seed,
            events=events,
            texts=texts,
            projection=projection,
            progress=progress,
        )
        detection.timings = {
            "load": round(loaded - projection.stats["seconds"], 4),
            "projection": projection.stats["seconds"],
            **{k: v for k, v in detection.timings.items() if k != "encode"},
        }
        detection.stats["backend"] = backend.to_dict()
        return detection
    events, texts = read_events(
        path, include_platform_urls=spec.include_platform_urls, include_reposts=spec.include_reposts
    )
    loaded = round(time.perf_counter() - started, 4)
    detection = run_pipeline(None, spec, seed=seed, events=events, texts=texts, progress=progress)
    detection.timings = {
        "load": loaded,
        **{k: v for k, v in detection.timings.items() if k != "encode"},
    }
    detection.stats["backend"] = backend.to_dict()
    return detection
