"""Dedupe assets. Per partition, `signatures_*` computes MinHash signatures and LSH band keys of
the records the rights audit admitted (partitions run in parallel; a partition is computed once).
`dedup_clusters` reads every current partition's signatures (and the image hashes) and builds
the clusters across partitions and source kinds, with one survivor each."""

import time
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import polars as pl
from dagster._core.events import DagsterEventType  # not exported by `dagster` in 1.13

from commons_assets.batches import SpooledTable, StoredTable, TableSpool, new_spool_file
from commons_assets.dedupe.cluster_table import cluster_report
from commons_assets.dedupe.clusters import phash_keys
from commons_assets.dedupe.index import SignatureTable
from commons_assets.dedupe.minhash import MinHashConfig, band_keys, text_signatures
from commons_assets.dedupe.resource import DedupeIndex
from commons_assets.dedupe.schemas import IMAGE_SIGNATURE_SCHEMA, SIGNATURE_SCHEMA
from commons_assets.defs.rights.assets import RIGHTS_ASSETS
from commons_assets.defs.rights.checks import require_cleared
from commons_assets.kinds import KINDS, SourceKind
from commons_assets.lake import Lake
from commons_assets.operations import TRANSIENT_RETRY, per_partition_asset
from commons_assets.publish.release import INDEX_POOL
from commons_assets.records import Schema
from commons_assets.reporting import column_schema, table
from commons_assets.rights.audit import ADMITTED
from commons_assets.steward import StewardSettings
from commons_assets.storage import every_partition

GROUP = "dedupe"
CONFIG = MinHashConfig()
CLUSTER_SCHEMA: Schema = {
    "cluster_id": pl.String,
    "record_id": pl.String,
    "source_kind": pl.String,
    "source_partition": pl.String,
    "source_id": pl.String,
    "role": pl.String,
    "match": pl.String,
    "similarity": pl.Float64,
    "survivor_id": pl.String,
    "cluster_size": pl.Int64,
}
# role: survivor | duplicate | withdrawn (the cluster holds a copy named by a work takedown)


WORK_TAKEDOWN = (
    pl.col("evidence")
    .list.eval(pl.element().struct.field("verdict").str.starts_with("matched (work)"))
    .list.any()
)


def admitted(frame: pl.DataFrame) -> pl.DataFrame:
    """Records the rights audit admitted, plus records withdrawn by a work-scoped takedown: those
    take part in clustering only so that their copies are withdrawn with them."""
    return frame.filter(pl.col("decision").is_in(ADMITTED) | WORK_TAKEDOWN).with_columns(
        WORK_TAKEDOWN.fill_null(False).alias("withdrawn")
    )


# What clustering needs of each record: identity, hashes and the survivor rule's fields.
RECORD_COLUMNS = (
    "id",
    "source_kind",
    "source_partition",
    "source_id",
    "sha256",
    "decision",
    "tier",
    "licence_class",
    "date",
    pl.col("evidence").list.len().cast(pl.Int64).alias("evidence_count"),
    "withdrawn",
)


def signature_frame(audited: pl.DataFrame, config: MinHashConfig = CONFIG) -> pl.DataFrame:
    rows = admitted(audited)
    signatures = text_signatures(rows["text"].fill_null("").to_list(), config)
    keys = band_keys(signatures, config)
    return (
        rows.select(
            *RECORD_COLUMNS,
        )
        .with_columns(
            pl.Series("signature", signatures.tolist(), dtype=pl.List(pl.UInt32)),
            pl.Series("band_keys", keys.tolist(), dtype=pl.List(pl.UInt64)),
        )
        .select(list(SIGNATURE_SCHEMA))
        if rows.height
        else pl.DataFrame(schema=SIGNATURE_SCHEMA)
    )


def image_signature_frame(audited: pl.DataFrame) -> pl.DataFrame:
    rows = admitted(audited).filter(pl.col("phash").is_not_null())
    if not rows.height:
        return pl.DataFrame(schema=IMAGE_SIGNATURE_SCHEMA)
    return rows.select(
        *RECORD_COLUMNS,
        (pl.col("image").struct.field("width") * pl.col("image").struct.field("height"))
        .cast(pl.Int64)
        .alias("image_pixels"),
        "phash",
        pl.col("phash")
        .map_elements(phash_keys, return_dtype=pl.List(pl.UInt64))
        .alias("band_keys"),
    )


def _write_signatures(
    context: dg.AssetExecutionContext,
    settings: StewardSettings,
    kind: SourceKind,
    audit: dg.AssetKey,
    audited: StoredTable,
    lake: Lake,
) -> dg.Output[SpooledTable]:
    started = time.perf_counter()
    require_cleared(context.instance, audit, context.partition_key)
    metadata: dict[str, Any] = {}
    size = settings.limits().batch
    schema = IMAGE_SIGNATURE_SCHEMA if kind.shard == "image_text" else SIGNATURE_SCHEMA
    if kind.shard != "image_text":
        config = settings.dedupe()
        metadata["settings"] = dg.MetadataValue.json(config.summary())
    # One batch of audited records at a time: bounded memory whatever the partition's size.
    with TableSpool(schema, lake.spool_folder, size) as spool:
        for batch in audited.batches(size):
            if kind.shard == "image_text":
                spool.write(image_signature_frame(batch))
            else:
                spool.write(signature_frame(batch, config.minhash))
        frame = spool.finish()
    return dg.Output(
        frame,
        metadata={
            "dagster/row_count": frame.height,
            "dagster/column_schema": column_schema(schema),
            **metadata,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


TEXT_SIGNATURES = (
    "MinHash signatures (word 5-grams, 112 permutations, datasketch-compatible LeanMinHash "
    "rows) and LSH band keys (14 bands x 8 rows, FineWeb's setting) of the records this "
    "partition's rights audit admitted."
)
IMAGE_SIGNATURES = (
    "Perceptual hashes of the admitted images of this partition, cut into 9 LSH keys so that "
    "images within 8 bits of each other share a key."
)


def signature_asset(kind: SourceKind, audit: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """Signatures of a kind's admitted records: MinHash for text, perceptual hashes for images."""
    images = kind.shard == "image_text"

    @per_partition_asset(
        kind.signature_asset,
        kind.partitions,
        GROUP,
        [],
        {"parquet", "polars", "image"} if images else {"parquet", "polars", "numpy"},
        IMAGE_SIGNATURES if images else TEXT_SIGNATURES,
        cpu_bound=True,
        ins={"audited": dg.AssetIn(audit.key)},
    )
    def signatures(
        context: dg.AssetExecutionContext,
        lake: Lake,
        settings: StewardSettings,
        audited: StoredTable,
    ) -> dg.Output[SpooledTable]:
        return _write_signatures(context, settings, kind, audit.key, audited, lake)

    return signatures


ALL_SIGNATURE_ASSETS = [
    signature_asset(kind, audit) for kind, audit in zip(KINDS, RIGHTS_ASSETS, strict=True)
]
signatures_pages, signatures_texts, signatures_images, signatures_posts = ALL_SIGNATURE_ASSETS


def current_signatures(
    instance: dg.DagsterInstance,
    signatures: Mapping[str, Mapping[str, pl.LazyFrame]],
) -> dict[str, SignatureTable]:
    """label -> table of every current signature partition, its state the storage id of the
    partition's latest materialization: a partition written again is indexed again."""
    found = {}
    for asset, partitions in signatures.items():
        written = instance.get_latest_storage_id_by_partition(
            dg.AssetKey(asset), DagsterEventType.ASSET_MATERIALIZATION, set(partitions)
        )
        for key, rows in partitions.items():
            found[f"{asset}/{key}"] = SignatureTable(f"materialization {written.get(key)}", rows)
    return found


def dedup_clusters_asset(
    kinds: Sequence[SourceKind], signatures: Sequence[dg.AssetsDefinition]
) -> dg.AssetsDefinition:
    """The clusters across every partition of every kind's signatures."""

    @dg.asset(
        name="dedup_clusters",
        ins={asset.key.to_user_string(): every_partition(asset) for asset in signatures},
        group_name=GROUP,
        pool=INDEX_POOL,
        retry_policy=TRANSIENT_RETRY,
        kinds={"parquet", "polars", "duckdb"},
        description=(
            "Duplicate clusters across all partitions and source kinds: exact (same normalised "
            "text or file hash), near (LSH candidates with estimated Jaccard >= 0.8) and images "
            "(pHash Hamming distance <= 8). Incremental: a new partition is looked up against the "
            "persisted index and added to it. Each cluster keeps one survivor: most permissive "
            "admissible licence, then richest provenance, then earliest source, then id."
        ),
    )
    def dedup_clusters(
        context: dg.AssetExecutionContext,
        lake: Lake,
        settings: StewardSettings,
        dedupe_index: DedupeIndex,
        **signatures: dict[str, pl.LazyFrame],
    ) -> dg.Output[SpooledTable]:
        started = time.perf_counter()
        config = settings.dedupe()
        limits = settings.limits()
        current = current_signatures(context.instance, signatures)
        update = dedupe_index.update(
            current,
            config.clusters,
            config.fingerprint(),
            limits.batch_rows,
            limits.index_memory_bytes,
        )
        # Built inside DuckDB (bounded by its memory limit) and written to the scratch folder;
        # the IO manager moves the file into the lake.
        out = new_spool_file(lake.spool_folder)
        try:
            written = dedupe_index.clusters(out, limits.index_memory_bytes)
            report = cluster_report(out)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        indexed_records = update.records_indexed
        return dg.Output(
            SpooledTable(out, written.rows),
            metadata={
                "dagster/row_count": written.rows,
                "dagster/column_schema": column_schema(CLUSTER_SCHEMA),
                "records_indexed": indexed_records,
                "clusters": report["clusters"],
                "duplicates_removed": report["duplicates"],
                "withdrawn_by_work_takedown": report["withdrawn"],
                "duplicate_ratio": round(report["duplicates"] / indexed_records, 4)
                if indexed_records
                else 0.0,
                **{f"matches/{m}": n for m, n in report["matches"].items()},
                "partitions_added": dg.MetadataValue.json(update.added),
                "partitions_removed": dg.MetadataValue.json(update.removed),
                "partitions_reindexed": dg.MetadataValue.json(update.reindexed),
                "rows_read_in_full": update.rows_read_in_full,
                "copies_of_indexed_content": update.copies_of_indexed_content,
                "lookup_rows": update.lookup_rows,
                "new_pairs": update.new_pairs,
                "component_rounds": written.rounds,
                "cluster_sizes": table(report["sizes"], ("cluster_size", "clusters")),
                "top_clusters": table(
                    report["largest"], ("cluster_size", "source_kind", "source_id", "members")
                ),
                "settings": dg.MetadataValue.json(
                    {**config.summary(), "index_memory_bytes": limits.index_memory_bytes}
                ),
                "seconds": round(time.perf_counter() - started, 3),
            },
        )

    return dedup_clusters


dedup_clusters = dedup_clusters_asset(KINDS, ALL_SIGNATURE_ASSETS)
DEDUPE_ASSETS = [*ALL_SIGNATURE_ASSETS, dedup_clusters]
