"""Signatures per partition and clusters across partitions, materialized through Dagster."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import dagster as dg
import polars as pl

from commons_assets.defs.clean.assets import clean_texts
from commons_assets.defs.dedupe.assets import dedup_clusters, signatures_texts
from commons_assets.defs.governance.assets import AUDIT_INPUTS
from commons_assets.defs.rights.assets import rights_texts
from commons_assets.defs.rights.checks import AUDIT_CHECKS
from commons_assets.defs.sources.assets import corpus_texts
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_tests.builders import write_jsonl
from commons_tests.runs import materialize

# The audit's checks run with it: a signature is built only on a partition they cleared.
TEXT_CHECKS = AUDIT_CHECKS[rights_texts.key]

SENTENCES = [
    "The ferry crosses the estuary every hour from dawn until late evening.",
    "Passengers buy tickets from the kiosk beside the old customs house.",
    "In summer the crossing is crowded with cyclists heading for the coast path.",
    "The captain has worked on the river for more than thirty years.",
    "Gulls follow the boat, hoping that someone will share a sandwich.",
    "On foggy mornings the horn sounds every two minutes until the far pier appears.",
    "A small museum on the quay tells the story of the ferries since 1850.",
    "Children press their faces to the windows to watch the wake spread behind them.",
]


def essay(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.sample(SENTENCES, len(SENTENCES)))


def test_clusters_span_partitions_and_keep_the_most_permissive_copy(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    root = tmp_path / "data"
    original = essay(1)
    texts = root / "sources" / "texts"
    write_jsonl(
        texts / "first" / "a.jsonl",
        [
            {"id": "ferry", "text": original, "licence": "CC-BY-4.0"},
            {"id": "other", "text": essay(2), "licence": "CC-BY-4.0"},
        ],
    )
    write_jsonl(
        texts / "second" / "a.jsonl",
        [
            {"id": "ferry-copy", "text": original, "licence": "CC0-1.0"},  # exact, more permissive
            {
                "id": "ferry-edit",
                "text": original.replace("every hour", "each hour"),
                "licence": "CC-BY-4.0",
            },  # near
            {
                "id": "ferry-nc",
                "text": original,
                "licence": "CC-BY-NC-4.0",
            },  # excluded: not deduped
        ],
    )
    lake = Lake(root=str(root))
    sync_partitions(instance, lake)
    for partition in ("first", "second"):
        assert materialize(
            [
                *AUDIT_INPUTS,
                corpus_texts,
                clean_texts,
                rights_texts,
                *TEXT_CHECKS,
                signatures_texts,
            ],
            partition_key=partition,
            resources=resources_for(lake),
            instance=instance,
        ).success
    signatures = pl.read_parquet(lake.table_path("signatures_texts", "second"))
    assert set(signatures["source_id"]) == {"ferry-copy", "ferry-edit"}
    assert signatures["signature"].list.len().unique().to_list() == [112]
    result = materialize([dedup_clusters], resources=resources_for(lake), instance=instance)
    assert result.success
    clusters = pl.read_parquet(lake.table_path("dedup_clusters", "all"))
    roles = {row["source_id"]: (row["role"], row["match"]) for row in clusters.to_dicts()}
    assert roles == {
        "ferry-copy": ("survivor", "self"),
        "ferry": ("duplicate", "exact"),
        "ferry-edit": ("duplicate", "near"),
    }
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["clusters"].value == 1 and metadata["duplicates_removed"].value == 2
    assert metadata["matches/exact"].value == 1 and metadata["matches/near"].value == 1


def _rebuild(lake: Lake, instance: dg.DagsterInstance) -> dict[str, tuple[str, str | None]]:
    for partition in ("first", "second"):
        assert materialize(
            [*AUDIT_INPUTS, rights_texts, *TEXT_CHECKS, signatures_texts],
            partition_key=partition,
            resources=resources_for(lake),
            instance=instance,
        ).success
    assert materialize([dedup_clusters], resources=resources_for(lake), instance=instance).success
    clusters = pl.read_parquet(lake.table_path("dedup_clusters", "all"))
    return {row["source_id"]: (row["role"], row["survivor_id"]) for row in clusters.to_dicts()}


def test_takedown_scopes(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    root = tmp_path / "data"
    original = essay(1)
    texts = root / "sources" / "texts"
    write_jsonl(
        texts / "first" / "a.jsonl", [{"id": "ferry", "text": original, "licence": "CC-BY-4.0"}]
    )
    write_jsonl(
        texts / "second" / "a.jsonl",
        [
            {"id": "ferry-copy", "text": original, "licence": "CC0-1.0"},
            {
                "id": "ferry-edit",
                "text": original.replace("every hour", "each hour"),
                "licence": "CC-BY-4.0",
            },
        ],
    )
    lake = Lake(root=str(root))
    sync_partitions(instance, lake)
    for partition in ("first", "second"):
        assert materialize(
            [corpus_texts, clean_texts],
            partition_key=partition,
            resources=resources_for(lake),
            instance=instance,
        ).success
    assert _rebuild(lake, instance)["ferry-copy"][0] == "survivor"

    takedowns = root / "policy" / "takedowns" / "requests.jsonl"
    # record scope: that copy only; the next member becomes the survivor
    write_jsonl(
        takedowns,
        [
            {
                "match": "id",
                "value": "ferry-copy",
                "scope": "record",
                "reason": "duplicate upload withdrawn",
            }
        ],
    )
    roles = _rebuild(lake, instance)
    assert "ferry-copy" not in roles
    assert roles["ferry"][0] == "survivor" and roles["ferry-edit"][0] == "duplicate"

    # work scope (the default): every copy of the work goes
    write_jsonl(takedowns, [{"match": "id", "value": "ferry-edit", "reason": "author request"}])
    roles = _rebuild(lake, instance)
    assert {source: role for source, (role, _) in roles.items()} == {
        "ferry-copy": "withdrawn",
        "ferry": "withdrawn",
        "ferry-edit": "withdrawn",
    }
    assert all(survivor is None for _, survivor in roles.values())


def test_adding_a_partition_reads_only_that_partition_and_removal_leaves_no_stale_pairs(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    root = tmp_path / "data"
    texts = root / "sources" / "texts"
    one, two = essay(1), essay(5)
    write_jsonl(texts / "p1" / "a.jsonl", [{"id": "one", "text": one, "licence": "CC0-1.0"}])
    write_jsonl(
        texts / "p2" / "a.jsonl",
        [
            {"id": "two", "text": two, "licence": "CC0-1.0"},
            {"id": "one-again", "text": one, "licence": "CC0-1.0"},
        ],
    )
    lake = Lake(root=str(root))

    def build(*partitions: str) -> dict:
        sync_partitions(instance, lake)
        for partition in partitions:
            assert materialize(
                [
                    *AUDIT_INPUTS,
                    corpus_texts,
                    clean_texts,
                    rights_texts,
                    *TEXT_CHECKS,
                    signatures_texts,
                ],
                partition_key=partition,
                resources=resources_for(lake),
                instance=instance,
            ).success
        result = materialize([dedup_clusters], resources=resources_for(lake), instance=instance)
        [event] = result.get_asset_materialization_events()
        return {k: v.value for k, v in event.materialization.metadata.items()}

    first = build("p1", "p2")
    assert first["partitions_added"] == ["signatures_texts/p1", "signatures_texts/p2"]
    assert first["rows_read_in_full"] == 3 and first["clusters"] == 1

    write_jsonl(
        texts / "p3" / "a.jsonl",
        [
            {
                "id": "two-edited",
                "licence": "CC0-1.0",
                "text": two.replace("every hour", "each hour"),
            }
        ],
    )
    second = build("p3")
    assert second["partitions_added"] == ["signatures_texts/p3"]
    assert second["rows_read_in_full"] == 1  # p1 and p2 were not read again in full
    assert second["lookup_rows"] == 1  # only the row sharing a bucket with the new one
    assert second["clusters"] == 2 and second["new_pairs"] == 1

    shutil.rmtree(texts / "p2")
    third = build()
    assert third["partitions_removed"] == ["signatures_texts/p2"]
    assert third["clusters"] == 0  # both pairs involved p2's records: none left stale
    clusters = pl.read_parquet(lake.table_path("dedup_clusters", "all"))
    assert clusters.height == 0

    # Nothing materialized since: nothing read again. p1 written again: p1 indexed again.
    unchanged = build()
    assert unchanged["partitions_reindexed"] == [] and unchanged["rows_read_in_full"] == 0
    rewritten = build("p1")
    assert rewritten["partitions_reindexed"] == ["signatures_texts/p1"]
    assert rewritten["rows_read_in_full"] == 1


def test_dedupe_settings_file_changes_thresholds_and_reindexes(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    root = tmp_path / "data"
    original = essay(1)
    write_jsonl(
        root / "sources" / "texts" / "p1" / "a.jsonl",
        [
            {"id": "a", "text": original, "licence": "CC0-1.0"},
            {"id": "b", "text": original.replace("every hour", "each hour"), "licence": "CC0-1.0"},
        ],
    )
    lake = Lake(root=str(root))
    sync_partitions(instance, lake)
    assert materialize(
        [*AUDIT_INPUTS, corpus_texts, clean_texts, rights_texts, *TEXT_CHECKS, signatures_texts],
        partition_key="p1",
        resources=resources_for(lake),
        instance=instance,
    ).success

    def clusters() -> tuple[int, dict]:
        result = materialize([dedup_clusters], resources=resources_for(lake), instance=instance)
        [event] = result.get_asset_materialization_events()
        metadata = event.materialization.metadata
        return metadata["clusters"].value, metadata["settings"].value

    count, settings = clusters()
    assert count == 1 and settings["source"] == "defaults"
    assert settings["index_memory_bytes"] == 512 * 2**20
    (root / "policy").mkdir()
    (root / "policy" / "sources.toml").write_text("[limits]\nindex_memory_bytes = 134217728\n")
    count, settings = clusters()
    assert count == 1 and settings["index_memory_bytes"] == 128 * 2**20
    (root / "policy" / "dedupe.toml").write_text("[clusters]\nnear_duplicate_jaccard = 0.99\n")
    count, settings = clusters()
    assert count == 0  # the pair is re-confirmed under the stricter threshold, and fails it
    assert settings["clusters"]["near_duplicate_jaccard"] == 0.99
    (root / "policy" / "dedupe.toml").write_text("[clusters]\nimage_hamming_distance = 20\n")
    result = materialize(
        [dedup_clusters], resources=resources_for(lake), instance=instance, raise_on_error=False
    )
    assert not result.success  # 9 pHash chunks cannot guarantee recall beyond 8 bits


def test_signatures_wait_for_the_audits_blocking_check(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """A partition whose blocking check never ran on its current audit table is not signed,
    whatever launches the step (here alone, as `dagster asset materialize` would)."""
    root = tmp_path / "data"
    write_jsonl(
        root / "sources" / "texts" / "p1" / "part.jsonl",
        [{"id": "a", "text": essay(1), "licence": "CC0-1.0"}],
    )
    lake = Lake(root=str(root))
    sync_partitions(instance, lake)
    run = {"partition_key": "p1", "resources": resources_for(lake), "instance": instance}
    assert materialize([*AUDIT_INPUTS, corpus_texts, clean_texts, rights_texts], **run).success
    unchecked = materialize([signatures_texts], raise_on_error=False, **run)
    assert not unchecked.success
    [failure] = [e for e in unchecked.all_events if e.is_step_failure]
    assert "rights_texts[p1] is not cleared: admitted_records_are_admissible never ran" in str(
        failure.step_failure_data.error.message
    ) + str(failure.step_failure_data.user_failure_data)
    assert not lake.table_path("signatures_texts", "p1").exists()
    assert materialize([*AUDIT_INPUTS, rights_texts, *TEXT_CHECKS], **run).success
    assert materialize([signatures_texts], **run).success
