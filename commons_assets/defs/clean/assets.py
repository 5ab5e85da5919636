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
from commons_assets.clean.documents import CleanCounts, CleanOutcome, DecidedBefore
from commons_assets.clean.records import CLEAN_SCHEMA, DROPPED_SCHEMA
from commons_assets.clean.settings import CleanSettings
from commons_assets.defs.sources.assets import SOURCE_ASSETS
from commons_assets.kinds import KINDS, SourceKind, quality_defaults
from commons_assets.lake import Lake, read_table
from commons_assets.operations import per_partition_asset
from commons_assets.records import Record, rows_of
from commons_assets.reporting import PREVIEW_ROWS, column_schema, preview, table
from commons_assets.rights import snapshots
from commons_assets.rights.audit import excluded_before_extraction
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.site_policies import SitePolicies, fetched_at
from commons_assets.steward import StewardSettings
from commons_assets.storage import batched, optional

# The site policies asset (defs/rights/assets.py, which reads the clean assets' tables).
SITE_POLICIES = "site_policies"

GROUP = "clean"
KEPT_FACTS = ("source_id", "language", "licence_raw")
DROPPED_FACTS = ("reason", "source_id", "stage", "language")


def _reason_table(counts: CleanCounts) -> dg.MetadataValue:
    rows: list[dict[str, str | int]]
    not_extracted = sum(counts.not_extracted.values())
    rows = [{"outcome": "kept", "reason": "", "count": counts.kept - not_extracted}]
    rows += [
        {"outcome": "not extracted", "reason": f"excluded by {gate} before extraction", "count": n}
        for gate, n in sorted(counts.not_extracted.items())
    ]
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
    context.log.info(
        f"{asset}[{partition}]: {counts.kept} kept ({sum(counts.not_extracted.values())} not "
        f"extracted), {counts.dropped} dropped"
    )
    dropped_preview = read_table(lake.dropped_path(asset, partition), n_rows=PREVIEW_ROWS)
    metadata: dict[str, Any] = {
        "dagster/row_count": counts.kept,
        "dagster/column_schema": column_schema(CLEAN_SCHEMA),
        "kept": counts.kept - sum(counts.not_extracted.values()),
        "dropped": counts.dropped,
        "not_carried": sum(counts.not_carried.values()),
        # Pages excluded before extraction: in the table without text, for the audit.
        "not_extracted": sum(counts.not_extracted.values()),
        **{f"not_extracted/{gate}": n for gate, n in sorted(counts.not_extracted.items())},
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


def decided_before(
    sites: pl.DataFrame, takedowns: pl.DataFrame, policy: RightsPolicy
) -> DecidedBefore:
    """The rights audit's decision on what a page's capture already says (site files, headers,
    a takedown by URL), for the clean stage to skip extracting the pages it excludes."""
    site_policies = SitePolicies.from_frame(sites)
    requests = snapshots.takedowns_of(takedowns).requests

    def decided(row: Record) -> tuple[str, str] | None:
        # The site files current when the page was fetched (its capture's WARC-Date).
        site = site_policies.files_for(row.get("source_uri") or "", fetched_at(row))
        decision = excluded_before_extraction(row, site, requests, policy)
        return (decision.gate, decision.reason) if decision is not None else None

    return decided


def clean_asset(
    kind: SourceKind, source: dg.AssetsDefinition, kinds: Sequence[SourceKind] = KINDS
) -> dg.AssetsDefinition:
    """The clean asset of a kind, partitioned like its source asset; `kinds` are every
    registered kind (the clean settings may name any of them). A kind with site policies
    (pages) also reads them and the takedown requests, to decide before extracting."""
    defaults = quality_defaults(kinds)
    ins = {"records": batched(source)}
    if kind.site_policies:
        # Optional: before the first site_policies, every page is extracted (the audit decides).
        ins["sites"] = optional(dg.AssetKey(SITE_POLICIES))
        ins["takedowns"] = optional(dg.AssetKey(snapshots.TAKEDOWNS))

    @per_partition_asset(
        kind.clean_asset,
        kind.partitions,
        GROUP,
        [],
        kind.clean_tags,
        kind.clean_description,
        cpu_bound=True,
        ins=ins,
    )
    def clean(
        context: dg.AssetExecutionContext,
        lake: Lake,
        settings: StewardSettings,
        records: StoredTable,
        **before: pl.DataFrame | None,  # `sites` and `takedowns`, for kinds with site policies
    ) -> dg.Output[SpooledTable]:
        chosen = settings.clean(defaults)
        sites, takedowns = before.get("sites"), before.get("takedowns")
        decided = (
            decided_before(sites, takedowns, settings.policy())
            if chosen.decide_first and sites is not None and takedowns is not None
            else None
        )
        return _write_clean(
            context,
            lake,
            records,
            kind,
            chosen,
            lambda rows, chosen: kind.clean(rows, chosen, lake, decided),
            settings.limits().batch,
        )

    return clean


CLEAN_ASSETS = [
    clean_asset(kind, source) for kind, source in zip(KINDS, SOURCE_ASSETS, strict=True)
]
clean_pages, clean_texts, clean_images, clean_posts = CLEAN_ASSETS
