"""Source assets: one per source kind, one partition per file, collection or day.

Each materialization parses its partition into the common record schema and writes
`lake/<asset>/<partition>.parquet`, plus the partition's quarantine; the metadata shows what
was kept, what was quarantined and why, and a preview.
"""

import time
from collections.abc import Callable

import dagster as dg

from commons_assets.lake import Lake
from commons_assets.operations import TRANSIENT_RETRY
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
from commons_assets.sources import layout
from commons_assets.sources.images import read_image_collection
from commons_assets.sources.limits import LimitsError, SourceLimits, load_limits
from commons_assets.sources.partitions import (
    archive_partitions,
    image_partitions,
    social_partitions,
    text_partitions,
)
from commons_assets.sources.social import read_social_day
from commons_assets.sources.texts import read_text_collection
from commons_assets.sources.warc import read_warc

GROUP = "sources"
PREVIEW_FACTS = ("source_id", "record_role", "licence_raw")
QUARANTINE_COLUMNS = ("reason", "location", "detail", "excerpt", "source_file")


def source_limits(lake: Lake) -> SourceLimits:
    """The readers' size limits (policy/sources.toml); an invalid file fails at once."""
    try:
        return load_limits(lake.root_path)
    except LimitsError as error:
        raise dg.Failure(description=f"Invalid limits: {error}", allow_retries=False) from error


def _missing_source(kind: str, partition: str, where: str) -> PartitionRead:
    """A registered partition whose file or folder is gone: zero rows, and the UI says why."""
    read = PartitionRead(kind, partition)
    read.quarantine(where, "source_missing", "the partition's source is no longer on disk")
    return read


def _write_partition(
    context: dg.AssetExecutionContext, lake: Lake, read_partition: Callable[[], PartitionRead]
) -> dg.MaterializeResult:
    asset = context.asset_key.to_user_string()
    partition = context.partition_key
    started = time.perf_counter()
    read = read_partition()
    records = read.records_frame()
    quarantine = read.quarantine_frame()
    path = lake.write_table(asset, partition, records)
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
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": records.height,
            "dagster/column_schema": column_schema(RECORD_SCHEMA),
            "kept": records.height,
            "quarantined": quarantine.height,
            "not_carried": not_carried,
            "outcomes": outcome_table(read.outcomes()),
            "quarantine": table(quarantine.head(QUARANTINE_ROWS).to_dicts(), QUARANTINE_COLUMNS),
            "preview": preview(preview_rows, "preview", PREVIEW_FACTS),
            "path": dg.MetadataValue.path(lake.relative(path)),
            "seconds": round(elapsed, 3),
            "limits": dg.MetadataValue.json(source_limits(lake).summary()),
        }
    )


@dg.asset(
    partitions_def=archive_partitions,
    group_name=GROUP,
    retry_policy=TRANSIENT_RETRY,
    kinds={"warc", "parquet", "polars"},
    description=(
        "Web archive captures, one partition per WARC file in `sources/archives/`. HTML pages "
        "and the site files (robots.txt, ai.txt, .well-known/tdmrep.json) with their HTTP "
        "headers; unreadable records are quarantined with their byte offset."
    ),
)
def archive_pages(context: dg.AssetExecutionContext, lake: Lake) -> dg.MaterializeResult:
    def read() -> PartitionRead:
        key = context.partition_key
        path = layout.archive_files(lake.sources).get(key)
        if path is None:
            return _missing_source("archives", key, f"sources/archives/{key}.warc[.gz]")
        return read_warc(path, key, lake.relative(path), source_limits(lake))

    return _write_partition(context, lake, read)


@dg.asset(
    partitions_def=text_partitions,
    group_name=GROUP,
    retry_policy=TRANSIENT_RETRY,
    kinds={"parquet", "polars"},
    description=(
        "Text collections (Common-Corpus style), one partition per folder in `sources/texts/`: "
        "every JSON Lines document with its declared licence, author and URL; defaults from "
        "`collection.json`. Bad lines are quarantined with their line number."
    ),
)
def corpus_texts(context: dg.AssetExecutionContext, lake: Lake) -> dg.MaterializeResult:
    def read() -> PartitionRead:
        key = context.partition_key
        folder = layout.collection_folders(lake.sources, layout.TEXTS).get(key)
        if folder is None:
            return _missing_source("texts", key, f"sources/texts/{key}/")
        return read_text_collection(folder, key, lake.root_path, source_limits(lake))

    return _write_partition(context, lake, read)


@dg.asset(
    partitions_def=image_partitions,
    group_name=GROUP,
    retry_policy=TRANSIENT_RETRY,
    kinds={"image", "parquet", "polars"},
    description=(
        "Image collections, one partition per folder in `sources/images/`: each record of "
        "`records.jsonl` with its rights statement, the image decoded under a pixel limit, its "
        "size, format and SHA-256. Files that are not images, too large or missing are "
        "quarantined."
    ),
)
def image_records(context: dg.AssetExecutionContext, lake: Lake) -> dg.MaterializeResult:
    def read() -> PartitionRead:
        key = context.partition_key
        folder = layout.collection_folders(lake.sources, layout.IMAGES).get(key)
        if folder is None:
            return _missing_source("images", key, f"sources/images/{key}/")
        return read_image_collection(folder, key, lake.root_path, source_limits(lake))

    return _write_partition(context, lake, read)


@dg.asset(
    partitions_def=social_partitions,
    group_name=GROUP,
    retry_policy=TRANSIENT_RETRY,
    kinds={"parquet", "polars"},
    description=(
        "Social posts, one daily partition per `sources/social/<YYYY-MM-DD>/`: posts with their "
        "author's user-intent declaration as consent evidence. Posts deleted by their author or "
        "account are not carried (only counted). A day with no folder has no posts."
    ),
)
def social_posts(context: dg.AssetExecutionContext, lake: Lake) -> dg.MaterializeResult:
    def read() -> PartitionRead:
        key = context.partition_key
        day = lake.sources / layout.SOCIAL / key
        return read_social_day(day, key, lake.root_path, source_limits(lake))

    return _write_partition(context, lake, read)


SOURCE_ASSETS = [archive_pages, corpus_texts, image_records, social_posts]
