"""The driver of `commons build --ray` (commons_assets/scale_out.py): a Ray job on the cluster
that plans the build and runs its runs as Ray tasks on the cluster's workers.

    python -m commons_assets.ray_build --ray-job ID
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

CODE_LOCATION = "commons_assets.scale_out"


def warm() -> None:
    """Import the code location in this worker: what every run's task needs first."""
    importlib.import_module(CODE_LOCATION)


def main(argv: Sequence[str] | None = None) -> int:
    import ray

    parser = argparse.ArgumentParser(prog="python -m commons_assets.ray_build")
    parser.add_argument("--ray-job", required=True, help="this job's submission id (a run tag)")
    args = parser.parse_args(argv)
    # The cluster this job was submitted to. Each run's log is in the instance: the workers'
    # output stays in their own log files, and this job's log is the build's lines.
    ray.init(log_to_driver=False, logging_level=logging.WARNING)
    # The workers start and import Dagster and Commons (≈ 2 s) while this driver does the same
    # and plans the build, rather than after it, when the first runs reach them.
    warming = [
        ray.remote(num_cpus=1)(warm).remote()
        for _ in range(int(ray.cluster_resources().get("CPU", 1)))
    ]
    import dagster as dg

    from commons_assets.lake import Lake
    from commons_assets.scale_out import build_on_cluster

    with dg.DagsterInstance.get() as instance:
        ok = build_on_cluster(
            Lake(), instance, args.ray_job, echo=lambda line: print(line, flush=True)
        )
    ray.get(warming)  # done long since; a failed import shows here too
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
