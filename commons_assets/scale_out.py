"""The scale-out code location (deploy/ray/): the same assets, checks and sensors, run on a Ray
cluster so that the partitions of a backfill (each a run of its source -> clean -> audit ->
signatures chain) spread over the cluster's workers. A run's steps go in order in one process
(the code location's in-process executor). Runs and events live in the instance's PostgreSQL;
each step reads and writes the lake like any other.

`commons build --ray` is the build's Ray driver (commons_assets/ray_build.py): run on a node of
the cluster (RAY_ADDRESS, else the local head), it plans the build and runs each run as a Ray
task of one CPU in Ray's pooled worker processes: a worker imports Dagster and Commons once and
runs one run after another, so a run's start is Dagster's alone (a Ray job per run paid a job
supervisor and a Python start with every import, 2-4 s, for every run). From a machine outside
the cluster, `commons build --ray --submit` sends the same driver as a Ray job to
COMMONS_RAY_ADDRESS (the head's job-submission address, default http://127.0.0.1:8265) and
follows its log: the build goes on if the terminal goes, at the price of the job's start and of
Ray's log polling (≈ 8 s a build). The UI's runs go through dagster-ray's `RayRunLauncher`
(deploy/ray/dagster.yaml), a Ray job per run. The variables a run needs (the instance, its
database, the data root) go with the build's driver to its tasks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository  # not re-exported
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES  # not re-exported

from commons_assets import definitions
from commons_assets.build import dependency_order, partitions_to_build
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.publish.release import INDEX_POOL, RELEASE_POOL
from commons_assets.settings import DATA_ROOT_ENV

if TYPE_CHECKING:  # Ray is the scale extra's: imported where a build goes to the cluster
    from ray.job_submission import JobSubmissionClient

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
# On every run of `commons build --ray`: the build (an id of its own: a driver's Ray job id
# starts again at 01000000 on each new cluster), its Ray job (the driver's job id, or the
# submission id with --submit, which is the build's id too), the planned run it is (its label),
# and the worker process it ran in.
BUILD_TAG = "commons/build"
RAY_JOB_TAG = "commons/ray-job"
PLANNED_RUN_TAG = "commons/planned-run"
RAY_WORKER_TAG = "commons/ray-worker"
UNFINISHED = tuple(NOT_FINISHED_STATUSES)

# The embedded default's definitions: on the cluster the unit is the run, its steps in order
# inside one Ray task (`commons build --ray`) or Ray job (the UI's), as in one process at home.
defs = definitions.defs


ASSET_JOB = "__ASSET_JOB"  # Dagster's implicit job of every asset


def execute_run(
    instance: dg.DagsterInstance,
    assets: Sequence[str],
    partition: str | None,
    tags: Mapping[str, str],
) -> bool:
    """One run of `assets` (with their checks) for one partition, in this process, recorded in
    `instance` (persistent: the driver and the UI read the run from it)."""
    repository = ReconstructableRepository.for_module(__name__, "defs", os.getcwd())
    run_tags = {"commons/trigger": "commons build --ray", **tags}
    if partition is not None:
        run_tags["dagster/partition"] = partition
    result = dg.execute_job(
        repository.get_reconstructable_job(ASSET_JOB),
        instance=instance,
        asset_selection=[dg.AssetKey.from_user_string(name) for name in assets],
        tags=run_tags,
        # The run's log stays in the instance (the UI shows it); the console gets errors.
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    return result.success


def end_runs(
    instance: dg.DagsterInstance, tags: Mapping[str, str], why: str, canceled: bool = False
) -> list[str]:
    """Mark the unfinished runs carrying `tags` failed (or canceled), with `why`, and free the
    concurrency slots their steps held: a run whose process is gone never frees them itself,
    and the next step of a shared-writer pool (limit 1) would wait on it for ever. Returns the
    runs' ids."""
    records = instance.get_run_records(dg.RunsFilter(tags=dict(tags), statuses=list(UNFINISHED)))
    for record in records:
        run = record.dagster_run
        if canceled:
            instance.report_run_canceled(run, why)
        else:
            instance.report_run_failed(run, why)
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [record.dagster_run.run_id for record in records]


def build_tags(build: str, ray_job: str) -> dict[str, str]:
    return {BUILD_TAG: build, RAY_JOB_TAG: ray_job}


def new_build_id() -> str:
    return f"commons-build-{os.urandom(6).hex()}"


def run_in_worker(
    assets: Sequence[str], partition: str | None, build: Mapping[str, str], planned: str
) -> bool:
    """A run as a Ray task (`build_on_cluster`): executed in the pooled worker process Ray
    leased it, which keeps its imports for the next run; tagged with the build's Ray job, the
    planned run and that worker."""
    import ray

    tags = {**build, PLANNED_RUN_TAG: planned}
    worker = ray.get_runtime_context().get_worker_id()
    with dg.DagsterInstance.get() as instance:
        # Ray runs a task again only when the worker of its last attempt was lost: that
        # attempt's run can never end by itself.
        end_runs(instance, tags, f"its worker was lost; run again in worker {worker}")
        return execute_run(instance, assets, partition, {**tags, RAY_WORKER_TAG: worker})


def driver_command(ray_job: str) -> list[str]:
    """The entrypoint of a build's Ray job (commons_assets/ray_build.py)."""
    return ["python", "-m", "commons_assets.ray_build", "--ray-job", ray_job]


def forwarded_env(lake: Lake) -> dict[str, str]:
    """The variables of this process that a run's process needs, and the data root as this
    process resolved it (whatever the cwd on the cluster)."""
    env = {name: os.environ[name] for name in FORWARDED if name in os.environ}
    env[DATA_ROOT_ENV] = str(lake.root_path)
    return env


class NoCluster(RuntimeError):
    """No Ray cluster to drive a build on from this process."""


def host_and_port(address: str) -> tuple[str, int]:
    """The host and port of a head's address: host:port, [IPv6]:port, or ray://host:port.
    Raises ValueError when it names no port."""
    host, _, port = address.split("://")[-1].rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)


def head_answers(address: str, timeout: float = 5.0) -> bool:
    """Whether something listens at a head's address (see `host_and_port`)."""
    try:
        with socket.create_connection(host_and_port(address), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def drive_build(lake: Lake, echo: Callable[[str], None] = print) -> bool:
    """`commons build --ray`: this process connects to the cluster it is a node of (RAY_ADDRESS,
    else the local head) as the build's driver, and runs the build. True when every run
    succeeded. Raises NoCluster when there is no cluster to connect to."""
    import ray

    from commons_assets.ray_build import drive

    # "auto": the cluster started on this machine; never a new one of this process's own.
    address = os.environ.get("RAY_ADDRESS", "auto")
    # Ray waits for a head that does not answer (more than 10 minutes seen): ask first.
    if address != "auto" and not head_answers(address):
        raise NoCluster(f"no Ray head answers at RAY_ADDRESS={address}")
    try:
        ray.init(
            address=address,
            runtime_env={"env_vars": forwarded_env(lake)},
            # Each run's log is in the instance; the workers' output stays in their log files.
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    except ConnectionError as error:
        raise NoCluster(str(error).strip().splitlines()[0]) from error
    try:
        build = build_tags(new_build_id(), ray.get_runtime_context().get_job_id())
        echo(f"build {build[BUILD_TAG]} (Ray job {build[RAY_JOB_TAG]}, driven from here)")
        return drive(lake, build, echo)
    finally:
        ray.shutdown()


def submit_build(lake: Lake, echo: Callable[[str], None] = print) -> bool:
    """`commons build --ray --submit`: submit the build's driver as a Ray job to
    COMMONS_RAY_ADDRESS, echo its lines as they come, and wait for it. True when every run
    succeeded."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    client = JobSubmissionClient(os.environ.get(RAY_ADDRESS_ENV, LOCAL_HEAD))
    ray_job = new_build_id()
    client.submit_job(
        submission_id=ray_job,
        entrypoint=shlex.join(driver_command(ray_job)),
        runtime_env={"env_vars": forwarded_env(lake)},
        entrypoint_num_cpus=0,  # the driver waits on its tasks; the CPUs are theirs
    )
    echo(f"Ray job {ray_job}")
    # Ray's SDK says at INFO on the console when the log's stream closes: the build's lines are
    # the output here.
    logging.getLogger("ray.dashboard.modules.job.sdk").setLevel(logging.WARNING)
    try:
        asyncio.run(_follow(client, ray_job, echo))  # until the job ends
    except RuntimeError as error:  # the log's connection lost: the job goes on regardless
        echo(f"(the build's log stopped: {error}; waiting for its end)")
    while not (status := client.get_job_status(ray_job)).is_terminal():
        time.sleep(0.2)  # the log closes a moment before the job's status is final
    return status == JobStatus.SUCCEEDED


async def _follow(client: JobSubmissionClient, ray_job: str, echo: Callable[[str], None]) -> None:
    """Echo a Ray job's log line by line as it comes (Ray sends it in chunks)."""
    pending = ""
    async for chunk in client.tail_job_logs(ray_job):
        *lines, pending = (pending + chunk).split("\n")
        for line in lines:
            echo(line)
    if pending:
        echo(pending)


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


def build_on_cluster(
    lake: Lake,
    instance: dg.DagsterInstance,
    build: Mapping[str, str],
    echo: Callable[[str], None] = print,
) -> bool:
    """Everything, as `commons build` builds it, from inside a Ray driver (`ray_build`): the runs
    of a phase go to the cluster at once as tasks of one CPU (`run_in_worker`), which Ray runs
    as many at a time as it has CPUs; the next phase starts when they have all ended.
    Returns False if a run failed (the rest still runs; what depends on it fails)."""
    import ray

    # A worker lost with its node is a system failure: the run goes again once, on another
    # worker (as deploy/ray/dagster.yaml's run_retries for the UI's runs). A run that fails is
    # not retried: its failure is in the instance.
    run_task = ray.remote(num_cpus=1, max_retries=1)(run_in_worker)
    limit_shared_writers(instance)
    sync_partitions(instance, lake)
    succeeded = True
    pending: dict[ray.ObjectRef[bool], PlannedRun] = {}
    try:
        for number, phase in enumerate(plan(instance, lake), start=1):
            echo(f"phase {number}: {len(phase)} run(s)")
            started = time.perf_counter()
            pending = {
                run_task.remote(
                    [key.to_user_string() for key in planned.assets],
                    planned.partition,
                    build,
                    planned.label,
                ): planned
                for planned in phase
            }
            while pending:
                [done], _ = ray.wait(list(pending), num_returns=1)
                planned = pending.pop(done)
                try:
                    ok, why = bool(ray.get(done)), ""
                except ray.exceptions.RayError as error:  # the worker's exception, or its loss
                    ok, why = False, f": {str(error).strip().splitlines()[-1]}"
                seconds = time.perf_counter() - started
                echo(f"  {'ok  ' if ok else 'FAIL'}  {planned.label} ({seconds:.1f} s){why}")
                succeeded &= ok
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (cli): stop the runs, then end them
        for task in pending:
            ray.cancel(task, force=True)  # kills the worker: the run stops where it is
        ray.wait(list(pending), num_returns=len(pending), timeout=30)
        ended = end_runs(instance, {BUILD_TAG: build[BUILD_TAG]}, "the build was interrupted", True)
        echo(f"interrupted: {len(ended)} run(s) canceled")
        raise
    return succeeded
