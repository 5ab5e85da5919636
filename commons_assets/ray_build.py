"""The driver of `commons build --ray` (commons_assets/scale_out.py): plans the build and runs its
runs as Ray tasks on the cluster's workers. It runs in the process of `commons build --ray` on a
node of the cluster, or, with `--submit`, as a Ray job on the cluster:

    python -m commons_assets.ray_build --ray-job ID
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # this module is light: the workers warm up before the driver imports these
    from commons_assets.lake import Lake

CODE_LOCATION = "commons_assets.scale_out"


def warm() -> None:
    """Import the code location in this worker: what every run's task needs first."""
    importlib.import_module(CODE_LOCATION)


def interrupt_on_sigterm() -> None:
    """SIGTERM (`kill`, `ray job stop`) as Ctrl-C: the driver then cancels its runs' tasks and
    ends their runs (scale_out.build_on_cluster) before it goes."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def drive(lake: Lake, build: Mapping[str, str], echo: Callable[[str], None]) -> bool:
    """The build, from a process connected to the cluster (`ray.init` done), its runs tagged
    with `build` (scale_out.build_tags): True when every run succeeded."""
    import ray

    # The workers start and import Dagster and Commons (≈ 2 s) while this driver does the same
    # and plans the build, rather than after it, when the first runs reach them.
    warming = [
        ray.remote(num_cpus=1)(warm).remote()
        for _ in range(int(ray.cluster_resources().get("CPU", 1)))
    ]
    import dagster as dg

    from commons_assets.scale_out import build_on_cluster

    with dg.DagsterInstance.get() as instance:
        ok = build_on_cluster(lake, instance, build, echo)
    ray.get(warming)  # done long since; a failed import shows here too
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """The entrypoint of a build submitted as a Ray job (`commons build --ray --submit`)."""
    import ray

    parser = argparse.ArgumentParser(prog="python -m commons_assets.ray_build")
    parser.add_argument("--ray-job", required=True, help="this job's submission id (a run tag)")
    args = parser.parse_args(argv)
    # The cluster this job was submitted to. Each run's log is in the instance: the workers'
    # output stays in their own log files, and this job's log is the build's lines.
    ray.init(log_to_driver=False, logging_level=logging.WARNING)
    interrupt_on_sigterm()
    from commons_assets.lake import Lake
    from commons_assets.scale_out import build_tags

    build = build_tags(args.ray_job, args.ray_job)  # the submission id names the build
    try:
        ok = drive(Lake(), build, echo=lambda line: print(line, flush=True))
    except KeyboardInterrupt:  # `ray job stop`: the runs are ended, as the log's last line says
        return 130
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
