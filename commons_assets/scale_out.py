"""The scale-out code location (deploy/ray/): the same assets, checks and sensors, every run a
job on a Ray cluster, so that the partitions of a backfill (each a run of its source -> clean ->
audit -> signatures chain) spread over the cluster's workers. A run's steps go in order in its
job's process: one Python and Dagster start per run, not per step (dagster-ray's step executor
started one per step, 3-5 s each: most of what a second worker could save). Runs and events
live in the instance's PostgreSQL; each step reads and writes the lake like any other.

`commons build --ray` submits the runs itself (`run_on_cluster`); the UI's runs go through
dagster-ray's `RayRunLauncher` (deploy/ray/dagster.yaml), which does the same for a run. The
cluster's job-submission address comes from COMMONS_RAY_ADDRESS (default the local head,
http://127.0.0.1:8265). Each run asks for one CPU: a cluster of N CPUs runs N runs at once.
The variables a run needs (the instance, its database, the data root) go with it.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository  # not re-exported

from commons_assets import definitions
from commons_assets.build import dependency_order, partitions_to_build
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.publish.release import INDEX_POOL, RELEASE_POOL

RAY_ADDRESS_ENV = "COMMONS_RAY_ADDRESS"
LOCAL_HEAD = "http://127.0.0.1:8265"
# What a run's process needs from the submitting one: the instance (DAGSTER_HOME and the
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
RAY_JOB_TAG = "commons/ray-job"  # on every run `commons build --ray` submitted: its Ray job

# The embedded default's definitions: on the cluster the unit is the run, its steps in order
# inside its Ray job, as in one process at home.
defs = definitions.defs


ASSET_JOB = "__ASSET_JOB"  # Dagster's implicit job of every asset


def execute_run(assets: Sequence[str], partition: str | None, ray_job: str | None) -> bool:
    """One run of `assets` (with their checks) for one partition, in this process: what a
    run's Ray job executes on a worker. Opens the instance of DAGSTER_HOME (persistent: the
    submitting process and the UI read the run from it)."""
    repository = ReconstructableRepository.for_module(__name__, "defs", os.getcwd())
    tags = {"commons/trigger": "commons build --ray"}
    if partition is not None:
        tags["dagster/partition"] = partition
    if ray_job is not None:
        tags[RAY_JOB_TAG] = ray_job
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


def run_command(assets: Sequence[str], partition: str | None, ray_job: str) -> list[str]:
    """The command of a run's Ray job (commons_assets/ray_run.py)."""
    where = ["--partition", partition] if partition is not None else []
    return ["python", "-m", "commons_assets.ray_run", *where, "--ray-job", ray_job, *assets]


def run_on_cluster(assets: Sequence[str], partition: str | None) -> bool:
    """Submit one run as a Ray job asking for one CPU, and wait for it: the cluster places it
    on a worker with a free CPU. True when the run succeeded."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    client = JobSubmissionClient(os.environ.get(RAY_ADDRESS_ENV, LOCAL_HEAD))
    ray_job = f"commons-run-{os.urandom(6).hex()}"
    client.submit_job(
        submission_id=ray_job,
        entrypoint=shlex.join(run_command(assets, partition, ray_job)),
        runtime_env={
            "env_vars": {name: os.environ[name] for name in FORWARDED if name in os.environ}
        },
        entrypoint_num_cpus=1,
    )
    while not (status := client.get_job_status(ray_job)).is_terminal():
        time.sleep(0.5)
    if status != JobStatus.SUCCEEDED:  # the run's own log is in the instance; this is the job's
        print(client.get_job_logs(ray_job)[-4000:], file=sys.stderr)
    return status == JobStatus.SUCCEEDED


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
    """Every asset partition with data to build, as phases of runs that can go at once. An asset
    goes in the first phase after its upstream, or in its upstream's phase when they have the
    same partitions (a partition's source -> clean -> audit -> signatures chain is one run,
    steps in order inside it); then each unpartitioned asset moves as late as its downstream
    allows, so it joins the unpartitioned run of that phase instead of taking a CPU and a run
    of its own beside the partitions (the steward's snapshots go with site_policies)."""
    partitions = {asset.key: partitions_to_build(asset, instance, lake) for asset in assets}
    ordered = [asset for asset in dependency_order(assets) if partitions[asset.key]]
    by_key = {asset.key: asset for asset in ordered}
    upstream = {
        asset.key: [
            by_key[dep] for dep in set(asset.dependency_keys) - {asset.key} if dep in by_key
        ]
        for asset in ordered
    }

    def same_run(a: dg.AssetsDefinition, b: dg.AssetsDefinition) -> bool:
        return a.partitions_def == b.partitions_def

    phase_of: dict[dg.AssetKey, int] = {}
    for asset in ordered:  # as soon as possible
        phase_of[asset.key] = max(
            (phase_of[dep.key] + (0 if same_run(dep, asset) else 1) for dep in upstream[asset.key]),
            default=0,
        )
    for asset in reversed(ordered):  # unpartitioned: as late as possible
        downstream = [a for a in ordered if asset in upstream[a.key]]
        if asset.partitions_def is None and downstream:
            phase_of[asset.key] = max(
                phase_of[asset.key],
                min(phase_of[a.key] - (0 if same_run(asset, a) else 1) for a in downstream),
            )
    phases: list[dict[tuple[object, str | None], list[dg.AssetKey]]] = [
        {} for _ in range(max(phase_of.values(), default=-1) + 1)
    ]
    for asset in ordered:
        for partition in partitions[asset.key]:
            runs = phases[phase_of[asset.key]]
            runs.setdefault((asset.partitions_def, partition), []).append(asset.key)
    return [
        [PlannedRun(tuple(keys), partition) for (_, partition), keys in runs.items()]
        for runs in phases
        if runs
    ]


def plan(instance: dg.DagsterInstance, lake: Lake) -> list[list[PlannedRun]]:
    """The phases of runs that build everything of this code location with data to build."""
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    return plan_phases(assets, instance, lake)


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


def _timed_run(planned: PlannedRun) -> tuple[bool, float]:
    """(whether the run succeeded, seconds from its submission to its end)."""
    started = time.perf_counter()
    ok = run_on_cluster([key.to_user_string() for key in planned.assets], planned.partition)
    return ok, time.perf_counter() - started


def build_on_cluster(
    lake: Lake,
    instance: dg.DagsterInstance,
    runs_at_once: int = 8,
    echo: Callable[[str], None] = print,
) -> bool:
    """Everything, as `commons build` builds it, with every run a job on the Ray cluster: the
    runs of a phase are submitted at once (up to `runs_at_once` waiting), the cluster runs as
    many as it has CPUs.
    Returns False if a run failed (the rest still runs; what depends on it fails)."""
    limit_shared_writers(instance)
    sync_partitions(instance, lake)
    succeeded = True
    for number, phase in enumerate(plan(instance, lake), start=1):
        echo(f"phase {number}: {len(phase)} run(s)")
        # Threads: each only submits its run and waits for it (the run works on the cluster).
        with ThreadPoolExecutor(max_workers=runs_at_once) as pool:
            for planned, (ok, seconds) in zip(phase, pool.map(_timed_run, phase), strict=True):
                echo(f"  {'ok  ' if ok else 'FAIL'}  {planned.label} ({seconds:.1f} s)")
                succeeded &= ok
    return succeeded
