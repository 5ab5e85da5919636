"""New files under sources/ become partitions without a code change."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from commons_assets.defs.sources.sensors import (
    apply_partition_requests,
    source_partitions_sensor,
    sync_partitions,
)
from commons_assets.lake import Lake
from commons_assets.steward import resources_for


def tick(instance: dg.DagsterInstance, lake: Lake) -> dg.SensorResult | dg.SkipReason:
    with dg.build_sensor_context(instance=instance, resources=resources_for(lake)) as context:
        result = source_partitions_sensor(context)
    if isinstance(result, dg.SensorResult):
        apply_partition_requests(instance, list(result.dynamic_partitions_requests or []))
    return result


def test_sensor_registers_new_warc_and_collections_and_forgets_removed(
    lake: Lake, data_root: Path, instance: dg.DagsterInstance
) -> None:
    first = tick(instance, lake)
    assert isinstance(first, dg.SensorResult)
    assert instance.get_dynamic_partitions("archives") == ["site-a"]
    assert instance.get_dynamic_partitions("text_collections") == ["essays"]
    assert instance.get_dynamic_partitions("image_collections") == ["photos"]
    assert isinstance(tick(instance, lake), dg.SkipReason)  # nothing changed

    archives = data_root / "sources" / "archives"
    shutil.copy(archives / "site-a.warc.gz", archives / "crawl-2026-12.warc.gz")
    (archives / "plain-crawl.warc").write_bytes(b"")
    (archives / "notes.txt").write_text("not a partition")
    tick(instance, lake)
    assert sorted(instance.get_dynamic_partitions("archives")) == [
        "crawl-2026-12",
        "plain-crawl",
        "site-a",
    ]

    (archives / "site-a.warc.gz").unlink()
    tick(instance, lake)
    assert sorted(instance.get_dynamic_partitions("archives")) == ["crawl-2026-12", "plain-crawl"]


def test_sync_partitions_matches_the_sensor(lake: Lake, instance: dg.DagsterInstance) -> None:
    on_disk = sync_partitions(instance, lake)
    assert on_disk == {
        "archives": ["site-a"],
        "text_collections": ["essays"],
        "image_collections": ["photos"],
    }
    assert isinstance(tick(instance, lake), dg.SkipReason)
