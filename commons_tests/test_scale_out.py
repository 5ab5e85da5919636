"""The scale-out profile (deploy/ray, docs/scale-out.md) on this machine's real services: a
fresh PostgreSQL database for the instance, a Ray head with 2 CPUs on localhost, the build's
driver this process (`commons build --ray`) or a Ray job on the head (`--submit`), every run a
Ray task of its workers (the run's steps in order inside the task), the data root (sources,
lake, duplicate index, releases) on an S3 server on localhost (moto's server mode). The bundled
sample built through it is the golden release of the embedded default, byte for byte (same row
ids, same shard checksums). Needs PostgreSQL, Ray and moto; skipped without them, except where
COMMONS_REQUIRE_RAY is set (CI)."""

from __future__ import annotations

import faulthandler
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from upath import UPath

from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.operations import CPU_POOL
from commons_assets.publish.release import INDEX_POOL, RELEASE_POOL
from commons_bench import cluster
from commons_tests.conftest import copy_sample
from commons_tests.optional import import_or_skip
from commons_tests.publish.test_sample_manifest import GOLDEN, released_files
from commons_tests.server import (
    LAUNCH_BACKFILL,
    REPO,
    materialized,
    running_server,
    wait_for_backfill,
    wait_for_partitions,
)
from commons_tests.test_postgres_instance import database  # noqa: F401 - a fixture
from commons_tests.test_scale_out_recovery import add_run

import_or_skip("ray", required_by="COMMONS_REQUIRE_RAY")
import_or_skip("dagster_ray", required_by="COMMONS_REQUIRE_RAY")
import_or_skip("moto.server", required_by="COMMONS_REQUIRE_RAY")
import_or_skip("s3fs", required_by="COMMONS_REQUIRE_RAY")


@pytest.fixture
def ray_head() -> Iterator[cluster.RayHead]:
    """A Ray head on localhost with 2 CPUs (the engine's two workers): its addresses."""
    try:
        with cluster.ray_head(cpus=2) as address:
            yield address
    except cluster.ClusterUnavailable as error:
        if os.environ.get("COMMONS_REQUIRE_RAY"):
            pytest.fail(str(error))
        pytest.skip(str(error))


@pytest.fixture
def s3_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[UPath]:
    """A bucket on an S3 server on localhost, reached through s3fs as a cloud bucket would be
    (the endpoint and credentials in botocore's environment variables)."""
    try:
        with cluster.s3_server() as endpoint:
            for name, value in cluster.s3_settings(endpoint).items():
                monkeypatch.setenv(name, value)
            root = UPath(f"s3://commons-{uuid.uuid4().hex[:8]}/data")
            root.fs.mkdir(root.path.split("/")[0])
            yield root
    except cluster.ClusterUnavailable as error:
        if os.environ.get("COMMONS_REQUIRE_RAY"):
            pytest.fail(str(error))
        pytest.skip(str(error))


def test_the_sample_built_with_every_run_a_ray_task_is_the_golden_release(
    database: str,  # noqa: F811 - the fixture imported above
    ray_head: cluster.RayHead,
    s3_root: UPath,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from ray.job_submission import JobStatus, JobSubmissionClient, JobType

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "ray" / "dagster.yaml", home / "dagster.yaml")
    root = copy_sample(s3_root)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("COMMONS_DATA", str(root))
    monkeypatch.setenv("COMMONS_RAY_ADDRESS", ray_head.jobs)
    monkeypatch.setenv("RAY_ADDRESS", ray_head.gcs)
    # The code location reads its cluster and data root when imported: after the settings.
    scale_out = importlib.reload(importlib.import_module("commons_assets.scale_out"))
    lake = Lake(root=str(root))
    lines: list[str] = []
    build: dict[str, str] = {}  # its tags, as its first line names them
    lost: list[str] = []

    def echo(line: str) -> None:
        lines.append(line)
        if line.startswith("build ") and not lost:  # "build ID (Ray job JOB, driven from here)"
            build.update(scale_out.build_tags(line.split()[1], line.split()[4].rstrip(",")))
            lost.append(lose_the_release_run(scale_out, lake, build))

    # This process drives the build, as `commons build --ray` on a node of the cluster. Were
    # the lost attempt's slot not given back, the release would wait for ever: bounded here,
    # with where it waited printed on the console (not into pytest's capture).
    with capfd.disabled():
        faulthandler.dump_traceback_later(300, exit=True)
        try:
            assert scale_out.drive_build(lake, echo=echo), "\n".join(lines)
        finally:
            faulthandler.cancel_dump_traceback_later()
    with dg.DagsterInstance.get() as instance:
        # The build's plan, now that its partitions are known to the instance.
        planned = [run for phase in scale_out.plan(instance, lake) for run in phase]
        runs = [
            r.dagster_run for r in instance.get_run_records() if r.dagster_run.run_id != lost[0]
        ]
        # The release's task ended the lost attempt first (as a task that Ray runs again does),
        # and its slot went to the build's release.
        assert instance.get_run_by_id(lost[0]).status == dg.DagsterRunStatus.FAILURE
        assert any("its worker was lost" in (e.message or "") for e in instance.all_logs(lost[0]))
        # The steps that write one shared object of the bucket go one at a time; the cluster
        # alone limits the CPU-bound ones.
        pools = instance.event_log_storage
        assert pools.get_concurrency_info(RELEASE_POOL).limit == 1
        assert pools.get_concurrency_info(INDEX_POOL).limit == 1
        assert pools.get_concurrency_info(CPU_POOL).limit is None
        # A UI run goes to the same cluster through dagster-ray's launcher (deploy/ray).
        launcher = instance.run_launcher
        assert type(launcher).__name__ == "RayRunLauncher" and launcher.address == ray_head.jobs
        assert set(launcher.env_vars or []) == set(scale_out.FORWARDED)
    # Every planned run ran once and said so in the build's log, all in the one Ray job of the
    # build: this process's, which the cluster saw as a driver that has ended.
    assert len(runs) == len(planned) >= 20, lines
    assert all(f"  ok    {run.label} (" in "\n".join(lines) for run in planned), lines
    [build_job] = {run.tags.get(scale_out.RAY_JOB_TAG) for run in runs}
    assert {run.tags.get(scale_out.BUILD_TAG) for run in runs} == {build[scale_out.BUILD_TAG]}
    [job] = [j for j in JobSubmissionClient(ray_head.jobs).list_jobs() if j.job_id == build_job]
    assert job.type == JobType.DRIVER and job.status == JobStatus.SUCCEEDED
    assert job.driver_info is not None and job.driver_info.pid == str(os.getpid())
    # The runs went to Ray's pooled workers, one after another in each: a handful of worker
    # processes for 2 CPUs, not a Python start per run.
    workers = {run.tags.get(scale_out.RAY_WORKER_TAG) for run in runs}
    assert None not in workers and len(workers) <= 4, workers
    assert released_files(lake) == json.loads(GOLDEN.read_text())
    # The lake is the bucket's: its tables, the duplicate index and the release are objects.
    assert lake.on_object_store and lake.index_path.exists()
    assert lake.table_path("clean_pages", "crawl-2026-11-a").exists()
    assert not (tmp_path / "data").exists()


def lose_the_release_run(scale_out: types.ModuleType, lake: Lake, build: dict[str, str]) -> str:
    """What a worker lost with its node leaves: a run of the build's release (the planned run
    Ray will run again) still STARTED, its `release` step holding the pool's one slot."""
    with dg.DagsterInstance.get() as instance:
        sync_partitions(instance, lake)
        [release] = [
            run.label
            for phase in scale_out.plan(instance, lake)
            for run in phase
            if dg.AssetKey("release") in run.assets
        ]
        tags = {**build, scale_out.PLANNED_RUN_TAG: release}
        run_id = add_run(instance, tags, dg.DagsterRunStatus.STARTED)
        pools = instance.event_log_storage
        pools.set_concurrency_slots(RELEASE_POOL, 1)
        assert pools.claim_concurrency_slot(RELEASE_POOL, run_id, "release").is_claimed
        return run_id


def test_a_backfill_launched_from_the_ui_runs_each_partition_as_a_ray_job(
    database: str,  # noqa: F811 - the fixture imported above (it sets DAGSTER_PG_URL)
    ray_head: cluster.RayHead,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The profile's UI (`dagster dev` on deploy/ray): a backfill of every archive partition,
    launched through the webserver's API as a user's click does, goes through the daemon's
    queue to dagster-ray's RayRunLauncher, and each partition's run is a Ray job on the head
    (`dagster api execute_run`) that writes its table."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    home = tmp_path / "home"
    home.mkdir()
    data = copy_sample(tmp_path / "data")
    monkeypatch.setenv("COMMONS_RAY_ADDRESS", ray_head.jobs)
    with running_server(home, data, REPO / "deploy" / "ray") as server:
        expected = set(wait_for_partitions(server, "archive_pages"))
        params = {"assetSelection": [{"path": ["archive_pages"]}], "allPartitions": True}
        launched = server.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        assert wait_for_backfill(server, launched["backfillId"]) == "COMPLETED_SUCCESS"
        done, failed = materialized(server, "archive_pages")
        assert done == expected and not failed
        with dg.DagsterInstance.from_config(str(home)) as instance:
            runs = [
                record.dagster_run
                for record in instance.get_run_records()
                if record.dagster_run.tags.get("dagster/backfill") == launched["backfillId"]
            ]
    assert len(runs) == len(expected) == 3
    client = JobSubmissionClient(ray_head.jobs)

    def finished(run_id: str) -> str:  # Ray notes a job's end a moment after its run's
        for _ in range(60):
            status = client.get_job_status(f"dagster-run-{run_id}")
            if status.is_terminal():
                return status
            time.sleep(1)
        return status

    assert {finished(run.run_id) for run in runs} == {JobStatus.SUCCEEDED}
    assert all(
        client.get_job_info(f"dagster-run-{run.run_id}").entrypoint.startswith(
            "dagster api execute_run"
        )
        for run in runs
    )
    assert {path.stem for path in (data / "lake" / "archive_pages").glob("*.parquet")} == expected


def test_a_build_whose_runs_fail_says_which_and_fails(
    database: str,  # noqa: F811 - the fixture imported above
    ray_head: cluster.RayHead,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A licence policy that cannot be read fails the runs that audit. The build submitted from
    outside the cluster (`commons build --ray --submit`): the build's log, followed from the
    Ray job, names each failed run, the job fails, the runs are failures in the instance, and
    nothing is released."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "ray" / "dagster.yaml", home / "dagster.yaml")
    root = copy_sample(tmp_path / "data")
    (root / "policy" / "licence_policy.toml").write_text("this is = [not toml\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("COMMONS_DATA", str(root))
    monkeypatch.setenv("COMMONS_RAY_ADDRESS", ray_head.jobs)
    scale_out = importlib.reload(importlib.import_module("commons_assets.scale_out"))
    lines: list[str] = []
    assert not scale_out.submit_build(Lake(root=str(root)), echo=lines.append)
    failed = [line for line in lines if line.startswith("  FAIL  ")]
    assert any("rights_" in line for line in failed), lines
    with dg.DagsterInstance.get() as instance:
        runs = [record.dagster_run for record in instance.get_run_records()]
    assert {run.run_id for run in runs if run.status == dg.DagsterRunStatus.FAILURE}
    [build_job] = {run.tags.get(scale_out.RAY_JOB_TAG) for run in runs}
    job = JobSubmissionClient(ray_head.jobs).get_job_info(build_job)
    assert job.status == JobStatus.FAILED
    assert job.entrypoint == f"python -m commons_assets.ray_build --ray-job {build_job}"
    assert not (root / "releases" / "LATEST").exists()


def test_an_interrupted_build_cancels_its_runs_and_the_next_build_completes(
    database: str,  # noqa: F811 - the fixture imported above (it sets DAGSTER_PG_URL)
    ray_head: cluster.RayHead,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C on `commons build --ray` while its partitions' runs go: the driver cancels their
    tasks (their workers stop where they are), ends the runs as canceled in the instance and
    gives back their concurrency slots; the next build completes with the golden release."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "ray" / "dagster.yaml", home / "dagster.yaml")
    root = copy_sample(tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("COMMONS_DATA", str(root))
    monkeypatch.setenv("RAY_ADDRESS", ray_head.gcs)
    command = [sys.executable, "-m", "commons_assets.cli", "build", "--ray"]
    build = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert build.stdout is not None
    lines = []
    for line in build.stdout:  # until the partitions' runs have gone to the cluster
        lines.append(line)
        if line.startswith("phase 3:"):
            break
    time.sleep(1)  # their runs start in the workers
    build.send_signal(signal.SIGINT)
    output, _ = build.communicate(timeout=120)
    lines += output.splitlines()
    assert build.returncode == 130, lines
    [interrupted] = [line for line in lines if line.startswith("interrupted: ")]
    scale_out = importlib.reload(importlib.import_module("commons_assets.scale_out"))
    with dg.DagsterInstance.get() as instance:
        runs = [record.dagster_run for record in instance.get_run_records()]
        pools = instance.event_log_storage
        assert not pools.get_concurrency_info(RELEASE_POOL).claimed_slots
        assert not pools.get_concurrency_info(INDEX_POOL).claimed_slots
    assert not [run for run in runs if run.status in scale_out.UNFINISHED], lines
    canceled = [run for run in runs if run.status == dg.DagsterRunStatus.CANCELED]
    assert canceled and interrupted == f"interrupted: {len(canceled)} run(s) canceled", lines
    assert not (root / "releases" / "LATEST").exists()
    # Built again from where the interrupted build left the lake: the same release as ever.
    lake = Lake(root=str(root))
    again: list[str] = []
    assert scale_out.drive_build(lake, echo=again.append), "\n".join(again)
    assert released_files(lake) == json.loads(GOLDEN.read_text())
