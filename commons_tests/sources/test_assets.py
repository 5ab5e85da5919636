"""Each source asset materialized for one partition through Dagster, as the UI would run it."""

from __future__ import annotations

from pathlib import Path
from typing import get_type_hints

import dagster as dg
import polars as pl
import pytest

from commons_assets.clean.records import CLEAN_SCHEMA, CleanRecord
from commons_assets.defs.sources.assets import (
    archive_pages,
    corpus_texts,
    image_records,
    social_posts,
)
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.records import QUARANTINE_SCHEMA, RECORD_SCHEMA, SIGNAL, Record, Signal
from commons_assets.rights.records import AUDIT_SCHEMA, AuditRecord
from commons_assets.steward import resources_for
from commons_tests.builders import SAMPLE_DAY

CASES = [
    # asset, partition, source ids kept, quarantine reasons
    (
        archive_pages,
        "site-a",
        ["https://a.example/robots.txt", "https://a.example/one", "https://a.example/two"],
        [],
    ),
    (corpus_texts, "essays", ["e1", "e3"], ["invalid_json"]),
    (image_records, "photos", ["red"], ["not_an_image"]),
    (
        social_posts,
        SAMPLE_DAY,
        [
            "at://did:plc:testalice/app.bsky.feed.post/1",
            "at://did:plc:testbob/app.bsky.feed.post/1",
        ],
        [],
    ),
]


def materialize(
    asset: dg.AssetsDefinition, partition: str, lake: Lake, instance
) -> dg.ExecuteInProcessResult:
    sync_partitions(instance, lake)
    return dg.materialize(
        [asset], partition_key=partition, resources=resources_for(lake), instance=instance
    )


@pytest.mark.parametrize(("asset", "partition", "kept", "reasons"), CASES)
def test_materializing_a_partition_writes_records_quarantine_and_metadata(
    lake: Lake, instance, asset, partition: str, kept: list[str], reasons: list[str]
) -> None:
    result = materialize(asset, partition, lake, instance)
    assert result.success
    name = asset.key.to_user_string()
    table = pl.read_parquet(lake.table_path(name, partition))
    assert table.schema == pl.Schema(RECORD_SCHEMA)
    assert table["source_id"].to_list() == kept
    assert table["source_partition"].unique().to_list() == [partition]
    assert table["provenance"].struct.field("source_file").null_count() == 0
    quarantine = pl.read_parquet(lake.quarantine_path(name, partition))
    assert quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)
    assert quarantine["reason"].to_list() == reasons

    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert event.materialization.partition == partition
    assert metadata["dagster/row_count"].value == len(kept)
    assert metadata["quarantined"].value == len(reasons)
    outcomes = {
        (r.data["outcome"], r.data["reason"]): r.data["count"]
        for r in metadata["outcomes"].value.records
    }
    assert outcomes[("kept", "")] == len(kept)
    for reason in reasons:
        assert outcomes[("quarantined", reason)] == reasons.count(reason)
    shown = metadata["preview"].value  # each record: its facts, then its text quoted
    assert shown.count("\n\n> ") == min(len(kept), 5)
    assert [r.data["reason"] for r in metadata["quarantine"].value.records] == reasons
    assert {c.name for c in metadata["dagster/column_schema"].value.columns} == set(RECORD_SCHEMA)


@pytest.mark.parametrize(("asset", "partition", "kept", "reasons"), CASES)
def test_rematerializing_is_idempotent(
    lake: Lake, instance, asset, partition: str, kept: list[str], reasons: list[str]
) -> None:
    name = asset.key.to_user_string()
    assert materialize(asset, partition, lake, instance).success
    first = lake.table_path(name, partition).read_bytes()
    first_quarantine = lake.quarantine_path(name, partition).read_bytes()
    assert materialize(asset, partition, lake, instance).success
    assert lake.table_path(name, partition).read_bytes() == first
    assert lake.quarantine_path(name, partition).read_bytes() == first_quarantine
    # No temporary files are left behind by the atomic writes.
    assert [p.name for p in lake.table_path(name, partition).parent.iterdir()] == [
        f"{partition}.parquet"
    ]


def test_social_day_without_folder_materializes_empty(lake: Lake, instance) -> None:
    result = materialize(social_posts, "2026-11-23", lake, instance)
    assert result.success
    assert pl.read_parquet(lake.table_path("social_posts", "2026-11-23")).height == 0


def test_partition_whose_source_vanished_reports_it(lake: Lake, data_root: Path, instance) -> None:
    sync_partitions(instance, lake)
    (data_root / "sources" / "archives" / "site-a.warc.gz").unlink()
    result = dg.materialize(
        [archive_pages], partition_key="site-a", resources=resources_for(lake), instance=instance
    )
    assert result.success
    quarantine = pl.read_parquet(lake.quarantine_path("archive_pages", "site-a"))
    assert quarantine["reason"].to_list() == ["source_missing"]


def test_the_typed_records_name_every_column_of_their_schemas() -> None:
    """Readers build `Record`s, the clean stage `CleanRecord`s, the audit `AuditRecord`s (mypy
    checks them); the lake's columns are the schemas': a column added to one and not the other
    fails here."""
    assert list(Record.__annotations__) == list(RECORD_SCHEMA)
    assert list(Signal.__annotations__) == [field.name for field in SIGNAL.fields]
    assert list(get_type_hints(CleanRecord)) == list(CLEAN_SCHEMA)
    assert list(get_type_hints(AuditRecord)) == list(AUDIT_SCHEMA)
