"""Runs of `commons build --ray` whose process is gone (a worker lost with its node, whose task
Ray runs again; a build interrupted, whose tasks it cancels) are ended in the instance and give
back the concurrency slots their steps held: otherwise the next step of a shared-writer pool
(`release`, `dedup_clusters`, limit 1) would wait on them for ever. And a driver pointed at no
head says so instead of waiting. No cluster needed."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import instance_for_test  # not exported by `dagster`

from commons_assets import scale_out
from commons_assets.lake import Lake
from commons_assets.publish.release import RELEASE_POOL
from commons_bench import cluster
from commons_tests.optional import import_or_skip

LABEL = "held_records, dedup_clusters, release"


def add_run(instance: dg.DagsterInstance, tags: dict[str, str], status: dg.DagsterRunStatus) -> str:
    run = dg.DagsterRun(
        job_name=scale_out.ASSET_JOB, run_id=str(uuid.uuid4()), tags=tags, status=status
    )
    instance.add_run(run)
    return run.run_id


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.status


def test_a_run_whose_process_is_gone_is_ended_and_gives_back_its_pool_slot() -> None:
    with instance_for_test() as instance:
        pools = instance.event_log_storage
        pools.set_concurrency_slots(RELEASE_POOL, 1)
        build = scale_out.build_tags("build-1", "01000000")
        attempt = {**build, scale_out.PLANNED_RUN_TAG: LABEL}
        lost = add_run(instance, attempt, dg.DagsterRunStatus.STARTED)
        # The same planned run of another build, and a finished attempt: not this one's to end.
        other_build = add_run(
            instance, {**attempt, scale_out.BUILD_TAG: "build-2"}, dg.DagsterRunStatus.STARTED
        )
        finished = add_run(instance, attempt, dg.DagsterRunStatus.SUCCESS)
        assert pools.claim_concurrency_slot(RELEASE_POOL, lost, "release").is_claimed
        retry = str(uuid.uuid4())
        assert not pools.claim_concurrency_slot(RELEASE_POOL, retry, "release").is_claimed

        ended = scale_out.end_runs(instance, attempt, "its worker was lost")

        assert ended == [lost]
        assert status(instance, lost) == dg.DagsterRunStatus.FAILURE
        assert status(instance, other_build) == dg.DagsterRunStatus.STARTED
        assert status(instance, finished) == dg.DagsterRunStatus.SUCCESS
        assert pools.get_concurrency_info(RELEASE_POOL).claimed_slots == []
        # The retry's step gets the slot the lost attempt held.
        assert pools.claim_concurrency_slot(RELEASE_POOL, retry, "release").is_claimed
        logs = instance.all_logs(lost)
        assert any("its worker was lost" in (event.message or "") for event in logs)


def test_an_interrupted_builds_runs_are_canceled() -> None:
    with instance_for_test() as instance:
        build = {scale_out.BUILD_TAG: "build-1"}
        running = add_run(
            instance, {**build, scale_out.PLANNED_RUN_TAG: "a[1]"}, dg.DagsterRunStatus.STARTED
        )
        starting = add_run(
            instance, {**build, scale_out.PLANNED_RUN_TAG: "a[2]"}, dg.DagsterRunStatus.STARTING
        )
        done = add_run(
            instance, {**build, scale_out.PLANNED_RUN_TAG: "a[3]"}, dg.DagsterRunStatus.FAILURE
        )

        ended = scale_out.end_runs(instance, build, "the build was interrupted", canceled=True)

        assert sorted(ended) == sorted([running, starting])
        assert (
            status(instance, running) == status(instance, starting) == dg.DagsterRunStatus.CANCELED
        )
        assert status(instance, done) == dg.DagsterRunStatus.FAILURE


def test_a_build_driven_at_an_address_where_no_head_answers_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray's own connect waits (minutes) for a head that is not there: the build says so."""
    import_or_skip("ray", required_by="COMMONS_REQUIRE_RAY")
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{cluster.free_port()}")
    with pytest.raises(scale_out.NoCluster, match="no Ray head answers at RAY_ADDRESS="):
        scale_out.drive_build(Lake(root=str(tmp_path)))


def test_a_heads_address_is_read_with_its_port_in_every_form() -> None:
    assert scale_out.host_and_port("127.0.0.1:6390") == ("127.0.0.1", 6390)
    assert scale_out.host_and_port("ray://head.example:10001") == ("head.example", 10001)
    assert scale_out.host_and_port("[::1]:6390") == ("::1", 6390)  # not the host "[::1]"
    assert scale_out.host_and_port("[fd00::5]:6390") == ("fd00::5", 6390)
    with pytest.raises(ValueError):
        scale_out.host_and_port("head.example")


def test_the_head_probe_finds_a_listener_and_no_one_at_a_free_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        assert scale_out.head_answers(f"127.0.0.1:{port}")
        assert scale_out.head_answers(f"ray://127.0.0.1:{port}")
    assert not scale_out.head_answers(f"127.0.0.1:{cluster.free_port()}", timeout=1)
    assert not scale_out.head_answers("no port here")
