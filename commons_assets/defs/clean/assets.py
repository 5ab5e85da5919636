"""Clean assets: one per source kind, partitioned like their source (identity mapping), so the
UI shows lineage partition by partition. Each writes the kept rows to the lake and the dropped
ones, with their reasons, beside them in `lake/_dropped/`."""

import time
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import polars as pl

from commons_assets.clean import documents
from commons_assets.clean.documents import CleanOutcome
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


def _reason_table(outcome: CleanOutcome) -> dg.MetadataValue:
    rows: list[dict[str, str | int]]
    rows = [{"outcome": "kept", "reason": "", "count": len(outcome.kept)}]
    rows += [
        {"outcome": "dropped", "reason": reason, "count": count}
        for reason, count in sorted(outcome.reasons().items())
    ]
    rows += [
        {"outcome": "not carried", "reason": reason, "count": count}
        for reason, count in sorted(outcome.not_carried.items())
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
    records: pl.DataFrame,
    kind: SourceKind,
    settings: CleanSettings,
    clean: Callable[[list[Record], CleanSettings], CleanOutcome],
) -> dg.Output[pl.DataFrame]:
    asset = context.asset_key.to_user_string()
    partition = context.partition_key
    started = time.perf_counter()
    outcome = clean(rows_of(records), settings)
    kept = pl.DataFrame(outcome.kept, schema=CLEAN_SCHEMA)
    dropped = pl.DataFrame(outcome.dropped, schema=DROPPED_SCHEMA)
    lake.write_dropped(asset, partition, dropped)
    elapsed = time.perf_counter() - started
    context.log.info(f"{asset}[{partition}]: {kept.height} kept, {dropped.height} dropped")
    metadata: dict[str, Any] = {
        "dagster/row_count": kept.height,
        "dagster/column_schema": column_schema(CLEAN_SCHEMA),
        "kept": kept.height,
        "dropped": dropped.height,
        "not_carried": sum(outcome.not_carried.values()),
        "reasons": _reason_table(outcome),
        # One number per reason, so the UI plots each across materializations.
        **{f"dropped/{reason}": count for reason, count in sorted(outcome.reasons().items())},
        **{f"lines_removed/{r}": n for r, n in sorted(outcome.lines_removed.items())},
        **{f"pii/{kind_}": n for kind_, n in sorted(outcome.pii.items())},
        **{f"wrappers_stripped/{w}": n for w, n in sorted(outcome.wrappers_stripped.items())},
        "kept_preview": preview(kept.head(PREVIEW_ROWS).to_dicts(), "text", KEPT_FACTS),
        "dropped_preview": preview(dropped.head(PREVIEW_ROWS).to_dicts(), "excerpt", DROPPED_FACTS),
        "settings": dg.MetadataValue.json(documents.settings_summary(settings, kind.name)),
        "seconds": round(elapsed, 3),
    }
    if kept.height:
        languages = kept["language"].fill_null("unknown").value_counts(sort=True)
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
        records: pl.DataFrame,
    ) -> dg.Output[pl.DataFrame]:
        return _write_clean(
            context,
            lake,
            records,
            kind,
            settings.clean(defaults),
            lambda rows, chosen: kind.clean(rows, chosen, lake),
        )

    return clean


CLEAN_ASSETS = [
    clean_asset(kind, source) for kind, source in zip(KINDS, SOURCE_ASSETS, strict=True)
]
clean_pages, clean_texts, clean_images, clean_posts = CLEAN_ASSETS
