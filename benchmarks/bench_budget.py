"""Benchmark: the pair budget keeps a projection of 1e7 posts from exhausting memory.

The exact number of account pairs is counted from object degrees (windowed
degrees, or the ``±Δt`` window sizes of the exact co-link) before any pair
exists. With no popularity cap and a budget far below the pair count, each
case runs in a fresh process: ``refuse`` must stop with a
:class:`~research.errors.BudgetError` naming the knob, at the memory of the
encoded posts; ``lower_cap`` must finish with a lowered cap. Peak RSS and time
are recorded for each.

Run: ``PYTHONPATH=. python -m benchmarks.bench_budget [--size 1e7] [--budget 1e6]``
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from benchmarks.common import run_child, write_result
from benchmarks.datasets import ensure_dataset

_CHILD = """
from research.errors import BudgetError
from research.scale import read_events
case = json.loads(sys.argv[2])
events, _texts = read_events(sys.argv[1] + "/posts.parquet")
loaded_mb = _peak_mb()
start = time.perf_counter()
outcome = {"case": case, "after_load_peak_rss_mb": loaded_mb}
try:
    if case["kind"] == "buckets":
        from research.graph.projection import ProjectionSpec, multiplex
        specs = [ProjectionSpec(o, weighting="idf", cap=None, pair_budget=case["budget"], on_budget=case["on_budget"]) for o in ("app_domain", "app_url")]
        projection = multiplex(events, specs, min_weight=3.0)
        outcome.update(result="finished", caps=[layer["cap"] for layer in projection.stats["layers"]],
                       pair_products_uncapped=[layer["pair_products_uncapped"] for layer in projection.stats["layers"]],
                       pair_products=[layer["pair_products"] for layer in projection.stats["layers"]], edges=projection.n_edges)
    else:
        from research.graph.colink import co_link
        network = co_link(events, window_s=case["window_s"], objects=case["objects"], pair_budget=case["budget"], on_budget=case["on_budget"])
        outcome.update(result="finished", caps=[network.stats["cap"]], pair_products_uncapped=[network.stats["pair_products_uncapped"]],
                       pair_products=[network.stats["pair_products"]], edges=network.n_edges)
except BudgetError as err:
    outcome.update(result="refused", message=str(err))
outcome.update(seconds=time.perf_counter() - start, peak_rss_mb=_peak_mb())
print(json.dumps(outcome))
"""


def run(size: int, budget: float) -> dict[str, Any]:
    """Run the cases; returns the results (also written to ``results/budget.json``)."""
    directory = str(ensure_dataset(size))
    cases = [
        {"kind": "buckets", "budget": budget, "on_budget": "refuse"},
        {"kind": "buckets", "budget": budget, "on_budget": "lower_cap"},
        {
            "kind": "colink",
            "objects": "app_domain",
            "window_s": 900,
            "budget": budget,
            "on_budget": "refuse",
        },
        {
            "kind": "colink",
            "objects": "app_domain",
            "window_s": 900,
            "budget": budget,
            "on_budget": "lower_cap",
        },
    ]
    outcomes = [run_child(_CHILD, directory, json.dumps(case)) for case in cases]
    for o in outcomes:
        c = o["case"]
        print(
            f"{c['kind']:8s} {c['on_budget']:9s} budget {c['budget']:.0e}: {o['result']:8s} in {o['seconds']:6.2f} s, "
            f"peak {o['peak_rss_mb']:6.0f} MB (encoded posts {o['after_load_peak_rss_mb']:.0f} MB)"
            + (f", caps {o['caps']}" if o["result"] == "finished" else f": {o['message'][:90]}..."),
            flush=True,
        )
    result = {"n_posts": size, "budget": budget, "cases": outcomes}
    write_result("budget", result)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1e7)
    parser.add_argument("--budget", type=float, default=1e6)
    args = parser.parse_args(argv)
    run(int(args.size), args.budget)


if __name__ == "__main__":
    main()
