"""How the code location is operated: owners, code references, backfill policies, pools and
retries on every asset, and declarative automation that makes downstream partitions follow
their upstream once the `follow_upstream` sensor is on."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg
import pytest

from commons_assets.definitions import defs
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.operations import CPU_POOL
from commons_assets.steward import resources_for
from commons_tests.builders import write_jsonl
from commons_tests.runs import materialize

GRAPH = defs.resolve_asset_graph()
SPECS = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}
MATERIALIZABLE = list(SPECS)


@pytest.mark.parametrize("name", MATERIALIZABLE)
def test_every_asset_has_owners_code_references_and_a_retry_policy(name: str) -> None:
    spec = SPECS[name]
    assert spec.owners and all(owner.startswith("team:") for owner in spec.owners)
    [reference] = spec.metadata["dagster/code_references"].code_references
    assert Path(reference.file_path).is_file() and reference.line_number > 0
    assert spec.kinds and spec.description
    assert spec.automation_condition is not None
    node = GRAPH.get(spec.key)
    assert node.assets_def.op.retry_policy is not None


@pytest.mark.parametrize("name", MATERIALIZABLE)
def test_partitioned_assets_run_one_partition_per_run(name: str) -> None:
    node = GRAPH.get(dg.AssetKey(name))
    # No policy: Dagster's default runs one partition per run, tagged with `dagster/partition`
    # (which partitioned asset checks need; see operations.py).
    assert node.backfill_policy is None
    cpu_bound = name.startswith(("clean_", "signatures_"))
    assert (CPU_POOL in node.pools) == cpu_bound


def test_the_automation_sensor_is_opt_in() -> None:
    sensor = defs.resolve_sensor_def("follow_upstream")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    # The sources sensor (new files become partitions) and the takedown sensor are on.
    assert defs.resolve_sensor_def("source_partitions").default_status == (
        dg.DefaultSensorStatus.RUNNING
    )
    assert defs.resolve_sensor_def("takedown_requests").default_status == (
        dg.DefaultSensorStatus.RUNNING
    )


def test_new_source_partitions_and_their_downstream_follow(
    lake: Lake, data_root: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONS_DATA", str(data_root))
    sync_partitions(instance, lake)
    _requested(instance, None)  # the first tick sets the baseline
    write_jsonl(
        data_root / "sources" / "texts" / "letters" / "a.jsonl",
        [{"id": "l1", "text": "A letter about the harbour.", "licence": "CC0-1.0"}],
    )
    sync_partitions(instance, lake)  # what the source_partitions sensor does
    requested = _requested(instance, _requested.cursor)
    # A new file's partition is read, and cleaned in the same run; an existing partition
    # whose source was never materialized is left alone.
    assert {("corpus_texts", "letters"), ("clean_texts", "letters")} <= requested
    assert ("clean_texts", "essays") not in requested

    source = defs.get_assets_def("corpus_texts")
    assert materialize(
        [source], partition_key="essays", resources=resources_for(lake), instance=instance
    ).success
    requested = _requested(instance, _requested.cursor)
    assert ("clean_texts", "essays") in requested  # the clean partition follows its source
    assert ("rights_texts", "essays") not in requested  # only once clean_texts[essays] exists


def _requested(instance: dg.DagsterInstance, cursor: object) -> set[tuple[str, str | None]]:
    with warnings.catch_warnings():  # the tester's own use of a beta parameter
        warnings.simplefilter("ignore", dg.BetaWarning)
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    _requested.cursor = result.cursor  # type: ignore[attr-defined]
    return {
        (key.to_user_string(), partition)
        for key in GRAPH.get_all_asset_keys()
        for partition in _partitions(result.get_requested_partitions(key))
    }


def _partitions(requested: set[str | None] | object) -> set[str | None]:
    return set(requested) if isinstance(requested, set) else set()
