"""The scale-out code location (deploy/ray/): the same assets, checks and sensors, with every
step of a run submitted as a job to a Ray cluster (dagster-ray's `ray_executor`), so that the
partitions of a backfill and their heavy steps spread over the cluster's workers. Runs and
events live in the instance's PostgreSQL; each step reads and writes the lake like any other.

The cluster's job-submission address comes from COMMONS_RAY_ADDRESS (default the local head,
http://127.0.0.1:8265). Each step asks for one CPU: a cluster of N CPUs runs N steps at once.
The variables a step needs (the instance, its database, the data root) go with it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository  # not re-exported
from dagster_ray import ray_executor

from commons_assets.build import dependency_order, partitions_to_build
from commons_assets.definitions import build_defs
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.publish.release import INDEX_POOL, RELEASE_POOL

RAY_ADDRESS_ENV = "COMMONS_RAY_ADDRESS"
LOCAL_HEAD = "http://127.0.0.1:8265"
# What a step process needs from the submitting one: the instance (DAGSTER_HOME and the
# database it names), the data root, and how to reach it when it is on an S3 store (botocore's
# own settings; on a cloud, workers usually take credentials from their machine's role instead).
FORWARDED = (
    "DAGSTER_HOME",
    "DAGSTER_PG_URL",
    "COMMONS_DATA",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


def ray_steps() -> dg.ExecutorDefinition:
    return ray_executor.configured(
        {
            "ray": {
                "address": os.environ.get(RAY_ADDRESS_ENV, LOCAL_HEAD),
                "num_cpus": 1,
                "env_vars": [name for name in FORWARDED if name in os.environ],
            }
        },
        name="ray_steps",
    )


defs = build_defs(executor=ray_steps())


ASSET_JOB = "__ASSET_JOB"  # Dagster's implicit job of every asset


def run_on_cluster(assets: Sequence[str], partition: str | None) -> bool:
    """One run of `assets` (with their checks) for one partition, its steps on the cluster;
    the run's process only orchestrates. Opens the instance of DAGSTER_HOME (persistent: the
    steps on the cluster write to it too)."""
    repository = ReconstructableRepository.for_module(__name__, "defs", os.getcwd())
    tags = {"commons/trigger": "commons build --ray"}
    if partition is not None:
        tags["dagster/partition"] = partition
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            repository.get_reconstructable_job(ASSET_JOB),
            instance=instance,
            asset_selection=[dg.AssetKey.from_user_string(name) for name in assets],
            tags=tags,
            # The run's log stays in the instance (the UI shows it); the console gets errors.
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        return result.success


@dataclass(frozen=True)
class PlannedRun:
    assets: tuple[dg.AssetKey, ...]
    partition: str | None

    @property
    def label(self) -> str:
        names = ", ".join(key.to_user_string() for key in self.assets)
        return f"{names}[{self.partition}]" if self.partition else names


def plan_phases(
    assets: Sequence[dg.AssetsDefinition], instance: dg.DagsterInstance, lake: Lake
) -> list[list[PlannedRun]]:
    """Every asset partition with source data, as phases of runs that can go at once: a phase
    takes each asset whose upstream is done, or upstream in the same phase with the same
    partitions (a partition's source -> clean -> audit -> signatures chain is one run, steps in
    order inside it); the unpartitioned assets of a phase are one run."""
    remaining = dependency_order(assets)
    done: set[dg.AssetKey] = set()
    phases = []
    while remaining:
        phase: list[dg.AssetsDefinition] = []
        for asset in remaining:
            inside = {a.key: a for a in phase}
            if all(
                dep in done
                or (dep in inside and inside[dep].partitions_def == asset.partitions_def)
                for dep in set(asset.dependency_keys) - {asset.key}
            ):
                phase.append(asset)
        if not phase:
            raise ValueError("the asset graph has a cycle")
        runs: dict[tuple[object, str | None], list[dg.AssetKey]] = {}
        for asset in phase:
            for partition in partitions_to_build(asset, instance, lake):
                runs.setdefault((asset.partitions_def, partition), []).append(asset.key)
        phases.append([PlannedRun(tuple(keys), part) for (_, part), keys in runs.items()])
        done |= {asset.key for asset in phase}
        remaining = [asset for asset in remaining if asset.key not in done]
    return phases


# One step at a time in each pool of a step that writes one shared object of the lake: no file
# lock serialises them on an object store (publish/release.py). Set on the instance, not by
# `concurrency.pools.default_limit`, which would limit the `cpu` pool too (the cluster itself
# schedules CPU-bound steps by the CPUs it has).
SHARED_WRITER_POOLS = (RELEASE_POOL, INDEX_POOL)


def limit_shared_writers(instance: dg.DagsterInstance) -> None:
    """Limit each shared-writer pool to one step, unless a limit was set already (the
    operator's: `dagster instance concurrency set <pool> <limit>`)."""
    storage = instance.event_log_storage
    for pool in SHARED_WRITER_POOLS:
        info = storage.get_concurrency_info(pool)
        if info.limit is None or info.using_default_limit:
            storage.set_concurrency_slots(pool, 1)


def build_on_cluster(
    lake: Lake,
    instance: dg.DagsterInstance,
    runs_at_once: int = 8,
    echo: Callable[[str], None] = print,
) -> bool:
    """Everything, as `commons build` builds it, with every step a job on the Ray cluster: the
    runs of a phase go at once (up to `runs_at_once`, each run in a process of its own: Dagster
    runs are not made to share a process), the cluster runs as many steps as it has CPUs.
    Returns False if a run failed (the rest still runs; what depends on it fails)."""
    limit_shared_writers(instance)
    sync_partitions(instance, lake)
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    succeeded = True
    for number, phase in enumerate(plan_phases(assets, instance, lake), start=1):
        echo(f"phase {number}: {len(phase)} run(s)")
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=runs_at_once, mp_context=spawn) as pool:
            outcomes = pool.map(
                run_on_cluster,
                [[key.to_user_string() for key in planned.assets] for planned in phase],
                [planned.partition for planned in phase],
            )
            for planned, ok in zip(phase, outcomes, strict=True):
                echo(f"  {'ok  ' if ok else 'FAIL'}  {planned.label}")
                succeeded &= ok
    return succeeded
