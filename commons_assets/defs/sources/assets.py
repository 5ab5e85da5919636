"""Source assets: one per source kind, one partition per file, collection or day.

Each materialization parses its partition into the common record schema and writes
`lake/<asset>/<partition>.parquet`, plus the partition's quarantine; the metadata shows what
was kept, what was quarantined and why, and a preview.
"""

import time
from collections.abc import Callable

import dagster as dg

from commons_assets.batches import SpooledTable, TableSpool
from commons_assets.kinds import KINDS, SourceKind
from commons_assets.lake import Lake
from commons_assets.operations import per_partition_asset
from commons_assets.records import RECORD_SCHEMA, PartitionRead
from commons_assets.reporting import (
    PREVIEW_ROWS,
    QUARANTINE_ROWS,
    column_schema,
    outcome_table,
    preview,
    table,
    visible_text,
)
from commons_assets.sources.collections import CollectionTerms, read_terms
from commons_assets.sources.limits import SourceLimits
from commons_assets.steward import StewardSettings

GROUP = "sources"
PREVIEW_FACTS = ("source_id", "record_role", "licence_raw")
QUARANTINE_COLUMNS = ("reason", "location", "detail", "excerpt", "source_file")


def _missing_source(read: PartitionRead, where: str) -> PartitionRead:
    """A registered partition whose file or folder is gone: zero rows, and the UI says why."""
    read.quarantine(where, "source_missing", "the partition's source is no longer on disk")
    return read


def _write_partition(
    context: dg.AssetExecutionContext,
    lake: Lake,
    limits: SourceLimits,
    source_kind: str,
    read_partition: Callable[[PartitionRead], PartitionRead],
    terms: CollectionTerms | None = None,
) -> dg.Output[SpooledTable]:
    asset = context.asset_key.to_user_string()
    partition = context.partition_key
    started = time.perf_counter()
    # The records go to the spool batch by batch as the reader keeps them: bounded memory.
    with TableSpool(RECORD_SCHEMA, lake.spool_folder, limits.batch) as spool:
        read = read_partition(PartitionRead(source_kind, partition, spool=spool))
        records = spool.finish()
    quarantine = read.quarantine_frame()
    lake.write_quarantine(asset, partition, quarantine)
    lake.write_not_carried(asset, partition, read.not_carried_frame())
    elapsed = time.perf_counter() - started

    preview_rows = [
        {
            **row,
            "preview": row.get("text") or row.get("caption") or visible_text(row.get("html") or ""),
        }
        for row in records.head(PREVIEW_ROWS).to_dicts()
    ]
    not_carried = sum(read.not_carried.values())
    context.log.info(
        f"{asset}[{partition}]: {records.height} kept, {quarantine.height} quarantined, "
        f"{not_carried} not carried"
    )
    return dg.Output(
        records,
        metadata={
            "dagster/row_count": records.height,
            "dagster/column_schema": column_schema(RECORD_SCHEMA),
            "kept": records.height,
            "quarantined": quarantine.height,
            "not_carried": not_carried,
            "outcomes": outcome_table(read.outcomes()),
            "quarantine": table(quarantine.head(QUARANTINE_ROWS).to_dicts(), QUARANTINE_COLUMNS),
            "preview": preview(preview_rows, "preview", PREVIEW_FACTS),
            "seconds": round(elapsed, 3),
            "limits": dg.MetadataValue.json(limits.summary()),
            **(terms.metadata() if terms is not None else {}),
        },
    )


def source_asset(kind: SourceKind) -> dg.AssetsDefinition:
    """The source asset of a kind: its reader over one partition's file or folder."""

    @per_partition_asset(
        kind.source_asset, kind.partitions, GROUP, [], kind.source_tags, kind.source_description
    )
    def source(
        context: dg.AssetExecutionContext, lake: Lake, settings: StewardSettings
    ) -> dg.Output[SpooledTable]:
        limits = settings.limits()
        # Read before the records: the terms recorded are never newer than the records' defaults.
        terms = (
            read_terms(lake.root_path, kind.name, context.partition_key)
            if kind.collection_terms
            else None
        )

        def read(into: PartitionRead) -> PartitionRead:
            key = context.partition_key
            location = kind.locate(lake.sources).get(key)
            if location is None and kind.dynamic:
                return _missing_source(into, f"sources/{kind.name}/{key}")
            return kind.read(lake, key, location, limits, into)

        return _write_partition(context, lake, limits, kind.name, read, terms)

    return source


SOURCE_ASSETS = [source_asset(kind) for kind in KINDS]
archive_pages, corpus_texts, image_records, social_posts = SOURCE_ASSETS
