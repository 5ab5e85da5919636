"""Clean assets: one per source kind, partitioned like their source (identity mapping), so the
UI shows lineage partition by partition. Each writes the kept rows to the lake and the dropped
ones, with their reasons, beside them in `lake/_dropped/`."""

import time
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import polars as pl

from commons_assets.batches import BatchSize, SpooledTable, StoredTable, TableSpool
from commons_assets.clean import documents
from commons_assets.clean.documents import CleanCounts, CleanOutcome
from commons_assets.clean.records import CLEAN_SCHEMA, DROPPED_SCHEMA
from commons_assets.clean.settings import CleanSettings
from commons_assets.defs.sources.assets import SOURCE_ASSETS
from commons_assets.kinds import KINDS, SourceKind, quality_defaults
from commons_assets.lake import Lake
from commons_assets.operations import per_partition_asset
from commons_assets.records import Record, rows_of
from commons_assets.reporting import PREVIEW_ROWS, column_schema, preview, table
from commons_assets.steward import StewardSettings

GROUP = "clean"
KEPT_FACTS = ("source_id", "language", "licence_raw")
DROPPED_FACTS = ("reason", "source_id", "stage", "language")


def _reason_table(counts: CleanCounts) -> dg.MetadataValue:
    rows: list[dict[str, str | int]]
    rows = [{"outcome": "kept", "reason": "", "count": counts.kept}]
    rows += [
        {"outcome": "dropped", "reason": reason, "count": count}
        for reason, count in sorted(counts.reasons.items())
    ]
    rows += [
        {"outcome": "not carried", "reason": reason, "count": count}
        for reason, count in sorted(counts.not_carried.items())
    ]
    return dg.MetadataValue.table(
        records=[dg.TableRecord(row) for row in rows],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("outcome", "string"),
                dg.TableColumn("reason", "string"),
                dg.TableColumn("count", "int"),
            ]
        ),
    )


def _write_clean(
    context: dg.AssetExecutionContext,
    lake: Lake,
    records: StoredTable,
    kind: SourceKind,
    settings: CleanSettings,
    clean: Callable[[list[Record], CleanSettings], CleanOutcome],
    size: BatchSize,
) -> dg.Output[SpooledTable]:
    asset = context.asset_key.to_user_string()
    partition = context.partition_key
    started = time.perf_counter()
    counts = CleanCounts()
    # One batch of the source table at a time: bounded memory whatever the partition's size.
    with (
        TableSpool(CLEAN_SCHEMA, lake.spool_folder, size) as kept_rows,
        TableSpool(DROPPED_SCHEMA, lake.spool_folder, size) as dropped_rows,
    ):
        for batch in records.batches(size):
            outcome = clean(rows_of(batch), settings)
            kept_rows.write(pl.DataFrame(outcome.kept, schema=CLEAN_SCHEMA))
            dropped_rows.write(pl.DataFrame(outcome.dropped, schema=DROPPED_SCHEMA))
            counts.add(outcome)
        kept, dropped = kept_rows.finish(), dropped_rows.finish()
    lake.write_dropped(asset, partition, dropped)
    elapsed = time.perf_counter() - started
    context.log.info(f"{asset}[{partition}]: {counts.kept} kept, {counts.dropped} dropped")
    dropped_preview = pl.read_parquet(lake.dropped_path(asset, partition), n_rows=PREVIEW_ROWS)
    metadata: dict[str, Any] = {
        "dagster/row_count": counts.kept,
        "dagster/column_schema": column_schema(CLEAN_SCHEMA),
        "kept": counts.kept,
        "dropped": counts.dropped,
        "not_carried": sum(counts.not_carried.values()),
        "reasons": _reason_table(counts),
        # One number per reason, so the UI plots each across materializations.
        **{f"dropped/{reason}": count for reason, count in sorted(counts.reasons.items())},
        **{f"lines_removed/{r}": n for r, n in sorted(counts.lines_removed.items())},
        **{f"pii/{kind_}": n for kind_, n in sorted(counts.pii.items())},
        **{f"wrappers_stripped/{w}": n for w, n in sorted(counts.wrappers_stripped.items())},
        "kept_preview": preview(kept.head(PREVIEW_ROWS).to_dicts(), "text", KEPT_FACTS),
        "dropped_preview": preview(dropped_preview.to_dicts(), "excerpt", DROPPED_FACTS),
        "settings": dg.MetadataValue.json(documents.settings_summary(settings, kind.name)),
        "seconds": round(elapsed, 3),
    }
    if counts.kept:
        languages = kept.select("language")["language"].fill_null("unknown").value_counts(sort=True)
        metadata["languages"] = table(
            [{"language": r["language"], "count": r["count"]} for r in languages.to_dicts()],
            ("language", "count"),
        )
    return dg.Output(kept, metadata=metadata)


def clean_asset(
    kind: SourceKind, source: dg.AssetsDefinition, kinds: Sequence[SourceKind] = KINDS
) -> dg.AssetsDefinition:
    """The clean asset of a kind, partitioned like its source asset; `kinds` are every
    registered kind (the clean settings may name any of them)."""
    defaults = quality_defaults(kinds)

    @per_partition_asset(
        kind.clean_asset,
        kind.partitions,
        GROUP,
        [],
        kind.clean_tags,
        kind.clean_description,
        cpu_bound=True,
        ins={"records": dg.AssetIn(source.key)},
    )
    def clean(
        context: dg.AssetExecutionContext,
        lake: Lake,
        settings: StewardSettings,
        records: StoredTable,
    ) -> dg.Output[SpooledTable]:
        return _write_clean(
            context,
            lake,
            records,
            kind,
            settings.clean(defaults),
            lambda rows, chosen: kind.clean(rows, chosen, lake),
            settings.limits().batch,
        )

    return clean


CLEAN_ASSETS = [
    clean_asset(kind, source) for kind, source in zip(KINDS, SOURCE_ASSETS, strict=True)
]
clean_pages, clean_texts, clean_images, clean_posts = CLEAN_ASSETS
