"""Rights audit assets: one per source kind, partitioned like the clean stage. Every cleaned
record gets a decision (INCLUDE, INCLUDE_ATTRIB, EXCLUDE, HOLD), the deciding gate and its full
evidence; excluded and held records stay in the table with their reasons, and only admitted
ones flow on. Their checks are in checks.py."""

import datetime as dt
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import dagster as dg
import polars as pl

from commons_assets.batches import SpooledTable, StoredTable, TableSpool
from commons_assets.clean.documents import extracted
from commons_assets.clean.records import CleanRecord
from commons_assets.defs.clean.assets import CLEAN_ASSETS, SITE_POLICIES
from commons_assets.defs.sources.assets import archive_pages
from commons_assets.kinds import KINDS, SourceKind
from commons_assets.lake import Lake, read_table, scan_table
from commons_assets.operations import TRANSIENT_RETRY, per_partition_asset
from commons_assets.reporting import column_schema, md, md_list, table
from commons_assets.rights import snapshots
from commons_assets.rights.audit import ADMITTED, Decision, SiteFiles, Takedown, decide
from commons_assets.rights.licences import EXCLUDE, HOLD
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.records import AUDIT_SCHEMA, AuditRecord
from commons_assets.rights.reviews import Review
from commons_assets.rights.site_policies import (
    ROLES,
    SITE_POLICY_SCHEMA,
    SitePolicies,
    captures,
    fetched_at,
    host_key,
)
from commons_assets.sources.collections import (
    FINGERPRINT,
    CollectionTerms,
    fingerprint_of,
    terms_file,
)
from commons_assets.steward import StewardSettings
from commons_assets.storage import batched, every_partition

GROUP = "rights"
EXAMPLES_PER_REASON = 3
DECISIONS = ("INCLUDE", "INCLUDE_ATTRIB", "HOLD", "EXCLUDE")


def audit_rows(
    rows: list[CleanRecord],
    sites: SitePolicies | None,
    takedowns: list[Takedown],
    policy: RightsPolicy,
    reviews: list[Review] | None = None,
    held_since: dict[str, str] | None = None,
    now: str = "",
) -> list[AuditRecord]:
    """Every row with its decision (pure: no Dagster, no I/O). A held row keeps the time it was
    first held (`held_since`, from the partition's previous audit) or gets `now`. A page is
    audited against the site files that governed it when it was fetched (`sites`)."""
    audited: list[AuditRecord] = []
    fingerprint = policy.fingerprint()
    held_since = held_since or {}
    for row in rows:
        site: SiteFiles | None = None
        if sites is not None:
            site = sites.files_for(row.get("source_uri") or "", fetched_at(row))
        result = decide(row, site, takedowns, policy, reviews or [])
        if result.decision != EXCLUDE and not extracted(row):
            # Excluded before extraction under site files or takedowns that no longer exclude
            # it: it has no text to publish until its partition is cleaned again.
            result = Decision(
                HOLD,
                "not-extracted",
                "not extracted: excluded before extraction by site files or a takedown that "
                "no longer exclude it; materialize its clean partition again",
                result.evidence,
                result.licence,
            )
        licence = result.licence
        audited.append(
            {
                **row,
                "decision": result.decision,
                "gate": result.gate,
                "decision_reason": result.reason,
                "evidence": result.evidence,
                "licence": licence.normalised if licence else None,
                "licence_class": licence.licence_class if licence else None,
                "licence_flags": list(licence.flags) if licence else [],
                "tier": result.tier,
                "policy": fingerprint,
                "held_since": held_since.get(row["id"], now) if result.decision == HOLD else None,
            }
        )
    return audited


def _report(
    audited: pl.DataFrame,
    policy: RightsPolicy,
    problems: list[str],
    elapsed: float,
    review_problems: list[str] | None = None,
) -> dict[str, Any]:
    by_decision = Counter(audited["decision"].to_list()) if audited.height else Counter()
    metadata: dict[str, Any] = {
        "dagster/row_count": audited.height,
        "dagster/column_schema": column_schema(AUDIT_SCHEMA),
        **{f"decision/{d}": by_decision.get(d, 0) for d in DECISIONS},
        "admitted": sum(by_decision.get(d, 0) for d in ADMITTED),
        "policy": dg.MetadataValue.json({**policy.summary(), "fingerprint": policy.fingerprint()}),
        "seconds": round(elapsed, 3),
    }
    if audited.height:
        gates = (
            audited.with_columns(pl.col("licence_class").fill_null("none"))
            .group_by("decision", "gate", "licence_class")
            .len(name="count")
            .sort(["decision", "gate", "licence_class"])
        )
        metadata["decisions"] = table(
            gates.to_dicts(), ("decision", "gate", "licence_class", "count")
        )
        reasons = (
            audited.group_by("decision", "decision_reason")
            .len(name="count")
            .sort(["count", "decision_reason"], descending=[True, False])
        )
        metadata["top_reasons"] = table(
            reasons.head(10).to_dicts(), ("decision", "decision_reason", "count")
        )
        examples = []
        for reason in reasons["decision_reason"].head(10):
            for row in (
                audited.filter(pl.col("decision_reason") == reason)
                .head(EXAMPLES_PER_REASON)
                .to_dicts()
            ):
                evidence = "; ".join(
                    f"{e['channel']}={e['raw']} → {e['verdict']}" for e in row["evidence"]
                )
                examples.append(
                    {"decision_reason": reason, "source_id": row["source_id"], "evidence": evidence}
                )
        metadata["examples"] = table(examples, ("decision_reason", "source_id", "evidence"))
        metadata["summary"] = dg.MetadataValue.md(audit_summary(audited, reasons))
        shares = audited.group_by(pl.col("licence_class").fill_null("unknown")).len()
        for licence_class, count in sorted(shares.iter_rows()):
            metadata[f"licence_share/{licence_class}"] = round(count / audited.height, 4)
        metadata["licence_unknown_share"] = round(
            audited.filter(pl.col("licence_class").fill_null("unknown") == "unknown").height
            / audited.height,
            4,
        )
    if problems:
        metadata["takedown_file_problems"] = dg.MetadataValue.md(md_list(problems))
    if review_problems:  # not applied: the records they name stay held
        metadata["review_file_problems"] = dg.MetadataValue.md(md_list(review_problems))
    if "summary" in metadata:  # first on the page, under the row count
        summary, row_count = metadata.pop("summary"), metadata.pop("dagster/row_count")
        metadata = {"dagster/row_count": row_count, "summary": summary, **metadata}
    return metadata


def audit_summary(audited: pl.DataFrame, reasons: pl.DataFrame) -> str:
    """The partition's audit in a few lines of markdown (shown on the asset page)."""
    counts = dict(audited.group_by("decision").len().iter_rows())
    admitted = sum(counts.get(d, 0) for d in ADMITTED)
    lines = [
        f"**{audited.height} records audited**",
        "",
        f"- {admitted} admitted ({counts.get('INCLUDE', 0)} INCLUDE, "
        f"{counts.get('INCLUDE_ATTRIB', 0)} INCLUDE_ATTRIB)",
        f"- {counts.get('HOLD', 0)} held for review",
        f"- {counts.get('EXCLUDE', 0)} excluded",
        "",
        "| decision | reason | records |",
        "| --- | --- | ---: |",
        *(
            "| {} | {} | {} |".format(row["decision"], md(row["decision_reason"]), row["count"])
            for row in reasons.head(5).to_dicts()
        ),
    ]
    if counts.get("HOLD"):
        lines += [
            "",
            "Held records are listed by the `review_queue` check; a steward decides them with "
            "`commons review decide` (policy/reviews/), and the partition is audited again.",
        ]
    return "\n".join(lines)


GATED_TIER = "gated"


def latest_metadata(
    instance: dg.DagsterInstance, asset: dg.AssetKey, partition: str
) -> dict[str, Any]:
    """The metadata values of an asset partition's latest materialization ({} if none)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[partition]), limit=1
    ).records
    event = records[0].asset_materialization if records else None
    return {key: value.value for key, value in event.metadata.items()} if event else {}


def recorded_terms(
    instance: dg.DagsterInstance, kind: SourceKind, partition: str
) -> CollectionTerms:
    """The collection terms its source asset read with the partition's records (fail closed:
    none recorded means unknown terms)."""
    source = dg.AssetKey(kind.source_asset)
    found = CollectionTerms.from_metadata(latest_metadata(instance, source, partition))
    if found is None:
        why = f"{kind.source_asset}[{partition}] recorded no collection terms: materialize it again"
        return CollectionTerms(False, why, "unknown")
    return found


def stale_collection_terms(
    lake: Lake, instance: dg.DagsterInstance, kind: SourceKind, keys: list[str]
) -> dict[str, str]:
    """{partition: why} for audits applied under collection terms other than the file's now (a
    collection gated since its source was read): the source and its audit must run again."""
    stale = {}
    for key in keys:
        applied = latest_metadata(instance, dg.AssetKey(kind.audit_asset), key).get(FINGERPRINT)
        if applied != fingerprint_of(terms_file(lake.sources, kind.name, key)):
            stale[key] = (
                f"sources/{kind.name}/{key}/collection.json changed since the audit: materialize "
                f"{kind.source_asset}[{key}] and what follows again"
            )
    return stale


def apply_collection_terms(audited: pl.DataFrame, terms: CollectionTerms, now: str) -> pl.DataFrame:
    """A gated collection's admitted records go to the gated tier only; when its terms cannot
    be read, its admitted records are held for a steward (never published as open)."""
    admitted = pl.col("decision").is_in(ADMITTED)
    problem = terms.problem
    if problem is not None:
        return audited.with_columns(
            decision=pl.when(admitted).then(pl.lit(HOLD)).otherwise("decision"),
            gate=pl.when(admitted).then(pl.lit("collection-terms")).otherwise("gate"),
            decision_reason=pl.when(admitted)
            .then(pl.lit(f"collection terms unknown: {problem}"))
            .otherwise("decision_reason"),
            held_since=pl.when(admitted)
            .then(pl.coalesce("held_since", pl.lit(now)))
            .otherwise("held_since"),
        )
    if terms.gated:
        return audited.with_columns(pl.lit(GATED_TIER).alias("tier"))
    return audited


def previously_held(lake: Lake, asset: str, context: dg.AssetExecutionContext) -> dict[str, str]:
    """id -> since when it has been held, from the partition's previous audit table."""
    path = lake.table_path(asset, context.partition_key)
    if not path.exists():
        return {}
    previous = scan_table(path)
    if "held_since" not in previous.collect_schema().names():
        return {}
    held = previous.filter(pl.col("held_since").is_not_null()).select("id", "held_since")
    return dict(held.collect().iter_rows())


SITE_POLICIES_DIGEST = "site_policies_digest"
CAPTURE_COLUMNS = [
    "id",
    "source_uri",
    "source_partition",
    "record_role",
    "date",
    "http_status",
    "text",
]


@dg.asset(
    name=SITE_POLICIES,
    ins={"pages": every_partition(archive_pages)},
    group_name=GROUP,
    retry_policy=TRANSIENT_RETRY,
    kinds={"parquet", "polars"},
    description=(
        "Every robots.txt, ai.txt and tdmrep.json capture of every archive partition, by host "
        "and capture time (robots.txt-only WARCs included, as Common Crawl publishes them). "
        "Each page is audited against the capture current when it was fetched; a site whose "
        "robots.txt was never captured is decided by the policy (robots_never_captured)."
    ),
)
def site_policies(pages: dict[str, pl.LazyFrame]) -> dg.Output[pl.DataFrame]:
    found: list[dict[str, Any]] = []
    for partition in pages.values():
        captured = partition.select(CAPTURE_COLUMNS).filter(pl.col("record_role").is_in(ROLES))
        found += captures(captured.collect().to_dicts())
    frame = pl.DataFrame(found, schema=SITE_POLICY_SCHEMA).sort(
        "host", "role", "captured_at", "capture_id", nulls_last=False
    )
    by_host = (
        frame.group_by("host")
        .agg(
            robots_captures=(pl.col("role") == "robots.txt").sum(),
            ai_txt_captures=(pl.col("role") == "ai.txt").sum(),
            tdmrep_captures=(pl.col("role") == "tdmrep").sum(),
            partitions=pl.col("source_partition").unique().sort().str.join(", "),
        )
        .sort("host")
    )
    return dg.Output(
        frame,
        metadata={
            "dagster/row_count": frame.height,
            "dagster/column_schema": column_schema(SITE_POLICY_SCHEMA),
            "hosts": by_host.height,
            "archive_partitions_read": len(pages),
            "captures_by_host": table(
                by_host.head(100).to_dicts(),
                ("host", "robots_captures", "ai_txt_captures", "tdmrep_captures", "partitions"),
            ),
        },
    )


def audited_hosts(frame: pl.DataFrame) -> list[str]:
    return sorted({host_key(uri) for uri in frame["source_uri"].drop_nulls().to_list()})


def stale_site_audits(
    lake: Lake, instance: dg.DagsterInstance, page_audits: Mapping[str, pl.LazyFrame]
) -> dict[str, str]:
    """{partition: why} for page audits (partition -> audit table) made before a capture of one
    of their hosts was added, removed or changed (a robots.txt WARC that arrived later): they
    must be audited again."""
    path = lake.table_path(SITE_POLICIES)
    current = SitePolicies.from_frame(read_table(path)) if path.exists() else None
    stale = {}
    for key, audited in page_audits.items():
        recorded = latest_metadata(instance, rights_pages.key, key).get(SITE_POLICIES_DIGEST)
        if current is None or recorded is None:
            stale[key] = "audited without the site_policies table: audit it again"
            continue
        hosts = audited_hosts(audited.select("source_uri").collect())
        if recorded != current.digest(hosts):
            stale[key] = "its sites' robots.txt/ai.txt/tdmrep.json captures changed since the audit"
    return stale


@dataclass(frozen=True)
class AuditInputs:
    """What a partition's audit reads: its cleaned records and the declared snapshots."""

    cleaned: StoredTable
    takedowns: pl.DataFrame
    reviews: pl.DataFrame
    sites: pl.DataFrame | None = None


# What the audit's report reads of the whole audited partition: never the texts.
REPORT_COLUMNS = (
    "id",
    "source_id",
    "source_uri",
    "decision",
    "gate",
    "decision_reason",
    "licence_class",
    "evidence",
)


def _write_audit(
    context: dg.AssetExecutionContext,
    lake: Lake,
    settings: StewardSettings,
    kind: SourceKind,
    inputs: AuditInputs,
) -> dg.Output[SpooledTable]:
    started = time.perf_counter()
    policy, size = settings.policy(), settings.limits().batch
    sites = SitePolicies.from_frame(inputs.sites) if inputs.sites is not None else None
    takedowns = snapshots.takedowns_of(inputs.takedowns)
    reviews = snapshots.reviews_of(inputs.reviews)
    asset = context.asset_key.to_user_string()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    held_since = previously_held(lake, asset, context)
    terms = (
        recorded_terms(context.instance, kind, context.partition_key)
        if kind.collection_terms
        else None
    )
    # One batch of cleaned records at a time: bounded memory whatever the partition's size.
    with TableSpool(AUDIT_SCHEMA, lake.spool_folder, size) as spool:
        for batch in inputs.cleaned.batches(size):
            rows_audited = audit_rows(
                cast(list[CleanRecord], batch.to_dicts()),
                sites,
                takedowns.requests,
                policy,
                reviews.reviews,
                held_since,
                now,
            )
            audited_batch = pl.DataFrame(rows_audited, schema=AUDIT_SCHEMA)
            if terms is not None:
                audited_batch = apply_collection_terms(audited_batch, terms, now)
            spool.write(audited_batch)
        audited = spool.finish()
    reported = audited.select(*REPORT_COLUMNS)
    metadata = _report(
        reported,
        policy,
        takedowns.problems,
        time.perf_counter() - started,
        reviews.problems,
    )
    # The snapshots applied: the release refuses snapshots older than the files.
    metadata[snapshots.TAKEDOWNS] = snapshots.fingerprint(inputs.takedowns)
    metadata[snapshots.REVIEWS] = snapshots.fingerprint(inputs.reviews)
    if terms is not None:  # the release refuses an audit under terms other than the file's
        metadata.update(terms.metadata())
    if sites is not None:  # the release refuses an audit made before its sites' captures changed
        metadata[SITE_POLICIES_DIGEST] = sites.digest(audited_hosts(reported))
    return dg.Output(audited, metadata=metadata)


def audit_asset(kind: SourceKind, clean_asset: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The rights audit of a kind, partitioned like its clean asset; pages also read the site
    policies (robots.txt and the like, from every archive partition)."""
    ins = {
        "cleaned": batched(clean_asset),
        "takedowns": dg.AssetIn(dg.AssetKey(snapshots.TAKEDOWNS)),
        "reviews": dg.AssetIn(dg.AssetKey(snapshots.REVIEWS)),
    }
    if kind.site_policies:
        ins["sites"] = dg.AssetIn(site_policies.key)

    @per_partition_asset(
        kind.audit_asset,
        kind.partitions,
        GROUP,
        [],
        {"parquet", "polars"},
        (
            f"Rights audit of {kind.noun}: every cleaned record with its decision (INCLUDE, "
            "INCLUDE_ATTRIB, EXCLUDE, HOLD), the deciding gate (takedown → opt-out → licence → "
            "consent → default) and the evidence (channel, raw value, verdict, location). "
            "Policy: policy/licence_policy.toml (conservative defaults)."
        ),
        ins=ins,
    )
    def audit(
        context: dg.AssetExecutionContext,
        lake: Lake,
        settings: StewardSettings,
        **tables: Any,  # the inputs above: `sites` for pages only
    ) -> dg.Output[SpooledTable]:
        return _write_audit(context, lake, settings, kind, AuditInputs(**tables))

    return audit


RIGHTS_ASSETS = [audit_asset(kind, clean) for kind, clean in zip(KINDS, CLEAN_ASSETS, strict=True)]
rights_pages, rights_texts, rights_images, rights_posts = RIGHTS_ASSETS
