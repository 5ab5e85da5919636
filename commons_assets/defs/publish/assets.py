"""The release asset: every admitted, deduplicated record of every current partition, written as
a new immutable version under `releases/` (DESIGN.md §5)."""

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg
import polars as pl
from upath import UPath

from commons_assets.batches import BatchSize, StoredTable
from commons_assets.defs.dedupe.assets import dedup_clusters
from commons_assets.defs.rights.assets import (
    RIGHTS_ASSETS,
    stale_collection_terms,
    stale_site_audits,
)
from commons_assets.defs.rights.checks import cleared_partitions, governing_files, site_policies
from commons_assets.kinds import KINDS, SourceKind, by_name
from commons_assets.lake import DROPPED_FOLDER, QUARANTINE_FOLDER, Lake, read_table
from commons_assets.operations import TRANSIENT_RETRY
from commons_assets.publish import gate
from commons_assets.publish.columns import COLUMNS
from commons_assets.publish.ledger import TOKENS, Ledger, release_ledger
from commons_assets.publish.release import (
    RELEASE_POOL,
    latest,
    point_latest,
    promote,
    releases_locked,
    stage_release,
)
from commons_assets.publish.rows import sorted_rows
from commons_assets.reporting import column_schema, md_list, table
from commons_assets.rights import snapshots
from commons_assets.rights.audit import REVIEW_CHANNEL, SiteFiles, Takedown
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.reviews import Review
from commons_assets.steward import StewardSettings
from commons_assets.storage import every_partition

GROUP = "publish"


AuditTables = Mapping[str, Mapping[str, StoredTable]]  # audit asset -> partition -> table


def uncleared_audits(
    lake: Lake, instance: dg.DagsterInstance, audits: AuditTables, kinds: Sequence[SourceKind]
) -> list[dict[str, str]]:
    """Audit partitions whose blocking check failed or did not run on their current table, and
    page audits older than their sites' captures: while there is one, no release is cut
    (DESIGN.md §5: LATEST never moves past a failed or missing blocking check upstream)."""
    found = []
    for kind in kinds:
        tables = audits.get(kind.audit_asset, {})
        keys = list(tables)
        _, held = cleared_partitions(instance, dg.AssetKey(kind.audit_asset), keys)
        if kind.site_policies:
            hosts = {key: table.select("source_uri").lazy() for key, table in tables.items()}
            held = {**stale_site_audits(lake, instance, hosts), **held}
        if kind.collection_terms:
            held = {**stale_collection_terms(lake, instance, kind, keys), **held}
        found += [
            {"partition": f"{kind.audit_asset}[{key}]", "why": why}
            for key, why in sorted(held.items())
        ]
    return found


# What the release reads of every audit row (the decision, where a page's fetch time is), and
# of its evidence only the entries of takedowns and reviews: never the texts.
DECISION_COLUMNS = ("id", "source_kind", "decision", "gate", "decision_reason")
FETCH_COLUMNS = ("fetched_at", "date")


def applied_entry(channel: pl.Expr) -> pl.Expr:
    return channel.str.starts_with("takedown:") | (channel == REVIEW_CHANNEL)


def add_audits(
    ledger: Ledger, audits: AuditTables, kinds: Sequence[SourceKind], size: BatchSize
) -> None:
    """Every current audit row's decision columns and page fetch time, and the evidence
    entries by which takedowns and steward reviews applied to them (channel, raw, location,
    verdict), into the ledger kind by kind, a batch at a time."""
    for kind in kinds:
        for audit in audits.get(kind.audit_asset, {}).values():
            names = audit.columns
            wanted = [c for c in (*DECISION_COLUMNS, *FETCH_COLUMNS) if c in names]
            for batch in audit.batches(size, columns=wanted):
                ledger.add("decisions", batch.with_columns(fetched_at(batch.columns)))
            for batch in audit.batches(size, columns=["evidence"]) if "evidence" in names else []:
                entries = batch.select(pl.col("evidence").explode()).unnest("evidence")
                ledger.add("applied", entries.filter(applied_entry(pl.col("channel"))))
    ledger.fetch_times()


def fetched_at(columns: Sequence[str]) -> pl.Expr:
    """As `fetched_at(row)`: the capture's time, else the page's date (an empty one is none)."""
    stated = [pl.col(c).cast(pl.String) for c in FETCH_COLUMNS if c in columns]
    first = pl.coalesce([pl.when(c != "").then(c) for c in stated]) if stated else pl.lit(None)
    return first.cast(pl.String).alias("fetched_at")


def stale_snapshots(lake: Lake) -> list[dict[str, str]]:
    """Snapshots of the steward's inputs that are missing or older than their files: a request
    or decision filed since must reach the release, so none is cut on them."""
    found = []
    for name, files in snapshots.FILES.items():
        why = snapshots.staleness(lake.table_path(name), files(lake.root_path))
        if why is not None:
            found.append({"partition": name, "why": why})
    return found


def filter_counts(lake: Lake, ledger: Ledger) -> dict[str, int]:
    """How many records each stage left out and why, for the card."""
    counts: Counter[str] = Counter()
    for folder, label in (
        (QUARANTINE_FOLDER, "quarantined (unreadable input)"),
        (DROPPED_FOLDER, "dropped by the clean stage"),
    ):
        for file in lake.side_tables(folder):  # a partition's table at a time
            reasons = read_table(file, columns=["reason"])
            for reason, count in reasons.group_by("reason").len().iter_rows():
                counts[f"{label}: {reason}"] += count
    for decision, gate_name, count in ledger.held_counts():
        counts[f"not admitted by the rights audit: {decision} ({gate_name})"] = count
    return dict(counts)


def applied_takedowns(
    requests: list[Takedown], problems: list[str], ledger: Ledger
) -> list[dict[str, Any]]:
    """Each request with the records it left out (from the evidence entries `add_audits`
    found), and each takedown line that cannot apply."""
    hits: Counter[tuple[str, str | None]] = Counter()
    for channel, raw, _, _, count in ledger.applied_counts():
        if channel.startswith("takedown:"):
            hits[(channel.split(":", 1)[1], raw)] += count
    unusable = [{"problem": problem, "records": 0} for problem in problems]
    return unusable + [
        {
            "source": t.source,
            "match": t.match,
            "value": t.value,
            "scope": t.scope,
            "reason": t.reason,
            "records": hits[(t.match, t.value)],
        }
        for t in requests
        # A steward's request that matched nothing is listed too (a typo, a record never
        # ingested); a deletion of a post never ingested is not news.
        if hits[(t.match, t.value)] or not t.source.startswith("sources/")
    ]


UPSTREAM_CHECK = "upstream_audits_passed"
ROWS_CHECK = "release_rows_are_admissible"
MANIFEST_CHECK = "manifest_matches_files"
RELEASE_CHECKS = [
    dg.AssetCheckSpec(
        UPSTREAM_CHECK,
        asset="release",
        blocking=True,
        description="Blocking, before anything is staged: every current audit partition's "
        "blocking check (admitted_records_are_admissible) passed on its current table. A "
        "partition that failed it, or was never checked, stops the release until it is fixed "
        "and audited again.",
    ),
    dg.AssetCheckSpec(
        ROWS_CHECK,
        asset="release",
        blocking=True,
        description="Blocking, before the release is promoted: every staged row re-verified "
        "from its own evidence (licence statements, consent and opt-out signals, takedowns in "
        "force), never from its decision column; a page's site-file evidence must be that of "
        "the captures current when it was fetched. On failure LATEST is not moved.",
    ),
    dg.AssetCheckSpec(
        MANIFEST_CHECK,
        asset="release",
        blocking=True,
        description="Blocking, before the release is promoted: MANIFEST.json lists exactly the "
        "staged files with their sha256, and the rows give its content fingerprint.",
    ),
]
VIOLATIONS_SHOWN = 50


def _policy_record(ledger: Ledger, current: RightsPolicy) -> dict[str, Any]:
    """The policy the card names: the one recorded on the rows (their fingerprints), with the
    policy file's settings only when every row was decided under it."""
    on_rows = ledger.policies()
    if on_rows in ([], [current.fingerprint()]):
        return {**current.summary(), "fingerprint": current.fingerprint()}
    return {
        "fingerprint": ", ".join(on_rows),
        "note": "rows were audited under these policies; re-audit to apply the current one",
        "current_policy_file": {**current.summary(), "fingerprint": current.fingerprint()},
    }


def page_site_files(lake: Lake, ledger: Ledger) -> gate.SiteFilesOf:
    """The site files governing each page of a batch of release rows, found by the fetch time
    its audit row carries (a release row has none; the ledger's `page_times`, looked up a
    batch at a time): the gate recomputes their evidence."""
    if not ledger.has_pages():
        return lambda batch: [None] * batch.height
    sites = site_policies(lake)

    def governing(batch: pl.DataFrame) -> list[SiteFiles | None]:
        fetched = ledger.fetched_at(batch["id"])
        return [
            governing_files(sites, {"source_kind": kind, "source_uri": uri, "fetched_at": when})
            for kind, uri, when in zip(
                batch["source_kind"], batch["source_uri"], fetched, strict=True
            )
        ]

    return governing


def _gate(
    candidate: UPath,
    takedowns: list[Takedown],
    policy: RightsPolicy,
    reviews: list[Review],
    site_files: gate.SiteFilesOf,
) -> tuple[gate.RowCheck, list[str], list[dg.AssetCheckResult]]:
    """Verify a candidate release; (its rows' check, manifest problems, check results)."""
    rows = gate.row_violations(
        candidate, takedowns, policy, reviews, site_files, keep=VIOLATIONS_SHOWN
    )
    manifest = gate.manifest_problems(candidate)
    results = [
        dg.AssetCheckResult(
            check_name=ROWS_CHECK,
            passed=not rows.violating,
            metadata={
                "candidate": candidate.name,
                "rows_checked": rows.checked,
                "violations": rows.violating,
                "violating_rows": table(rows.shown, ("tier", "config", "source_id", "problems")),
            },
        ),
        dg.AssetCheckResult(
            check_name=MANIFEST_CHECK,
            passed=not manifest,
            metadata={
                "candidate": candidate.name,
                "problems": dg.MetadataValue.md(md_list(manifest) or "none"),
            },
        ),
    ]
    return rows, manifest, results


def applied_reviews(ledger: Ledger) -> list[dict[str, Any]]:
    """The steward reviews that decided records of this release's audits, with their counts."""
    hits: Counter[tuple[str, str]] = Counter()
    for channel, _, location, verdict, count in ledger.applied_counts():
        if channel == REVIEW_CHANNEL:
            hits[(location or "", verdict or "")] += count
    return [
        {"source": source, "verdict": verdict, "records": count}
        for (source, verdict), count in sorted(hits.items())
    ]


def release_counts(ledger: Ledger, lineage: Mapping[str, SourceKind]) -> dict[str, Any]:
    """The release's rows counted by source, licence class, language, partition and tier (the
    asset's metadata), from the ledger's summary of its rows."""
    by_tier = {row["tier"]: row["len"] for row in ledger.counted("tier")}
    rows = sum(by_tier.values())
    by_class = ledger.counted("licence_class")
    return {
        "dagster/row_count": rows,
        "rows_open": by_tier.get("open", 0),
        "rows_consented": by_tier.get("consented", 0),
        "tokens_approx": int(ledger.scalar(f"SELECT coalesce(sum({TOKENS}), 0) FROM summary")),
        **{
            f"licence_share/{row['licence_class'] or 'consent'}": round(row["len"] / rows, 4)
            for row in by_class
        },
        "rows_by_source": table(ledger.counted("source_kind"), ("source_kind", "len")),
        "rows_by_licence_class": table(by_class, ("licence_class", "len")),
        "rows_by_language": table(ledger.counted("language"), ("language", "len")),
        "rows_by_source_partition": table(
            [
                {
                    **row,
                    "audit": f"{lineage[row['source_kind']].audit_asset}"
                    f"[{row['source_partition']}]",
                    "source": f"{lineage[row['source_kind']].source_asset}"
                    f"[{row['source_partition']}]",
                }
                for row in ledger.counted("source_kind", "source_partition")
            ],
            ("source_kind", "source_partition", "len", "audit", "source"),
        ),
        "rows_by_tier": table(ledger.counted("tier"), ("tier", "len")),
    }


def release_asset(
    kinds: Sequence[SourceKind],
    audits: Sequence[dg.AssetsDefinition],
    clusters_asset: dg.AssetsDefinition,
) -> dg.AssetsDefinition:
    """The release of every kind's admitted, deduplicated records."""
    # Where a release row's source partition comes from: its kind's source asset and rights
    # audit (the asset pages to open, with the row's source_partition, to follow its lineage).
    lineage = by_name(kinds)
    image_kinds = [kind.name for kind in kinds if kind.shard == "image_text"]

    @dg.asset(
        name="release",
        pool=RELEASE_POOL,
        ins={
            **{
                audit.key.to_user_string(): every_partition(audit, batched=True) for audit in audits
            },
            "clusters": dg.AssetIn(clusters_asset.key),
            "takedowns": dg.AssetIn(dg.AssetKey(snapshots.TAKEDOWNS)),
            "reviews": dg.AssetIn(dg.AssetKey(snapshots.REVIEWS)),
        },
        group_name=GROUP,
        retry_policy=TRANSIENT_RETRY,
        kinds={"parquet", "polars"},
        check_specs=RELEASE_CHECKS,
        description=(
            "A versioned, immutable release in releases/VERSION/: Parquet shards for text and "
            "image_text (every row with licence, attribution, consent evidence and provenance), "
            "README.md dataset card, ATTRIBUTION.md, CHANGES.md, MANIFEST.json; records admitted "
            "only by consent go to the separate `consented/` tier. Write-audit-publish: the "
            "candidate is staged in releases/.staging/, verified by the blocking checks, and only "
            "then promoted and named in LATEST. An unchanged build makes no new version."
        ),
    )
    def release(
        context: dg.AssetExecutionContext,
        lake: Lake,
        settings: StewardSettings,
        clusters: StoredTable,
        takedowns: pl.DataFrame,
        reviews: pl.DataFrame,
        **audits: dict[str, StoredTable],
    ) -> Iterator[dg.AssetCheckResult | dg.MaterializeResult]:
        uncleared = uncleared_audits(lake, context.instance, audits, kinds)
        if uncleared := [*stale_snapshots(lake), *uncleared]:
            yield dg.AssetCheckResult(
                check_name=UPSTREAM_CHECK,
                passed=False,
                metadata={
                    "uncleared": len(uncleared),
                    "partitions": table(uncleared[:VIOLATIONS_SHOWN], ("partition", "why")),
                },
            )
            for check in (ROWS_CHECK, MANIFEST_CHECK):  # nothing was staged to verify
                yield dg.AssetCheckResult(
                    check_name=check, passed=False, metadata={"note": f"not run: {UPSTREAM_CHECK}"}
                )
            shown = "; ".join(f"{u['partition']}: {u['why']}" for u in uncleared[:5])
            raise dg.Failure(
                description=f"No release: {len(uncleared)} audit partition(s) did not pass their "
                f"blocking check ({shown}). LATEST stays {latest(lake.releases)}.",
                allow_retries=False,
            )
        yield dg.AssetCheckResult(check_name=UPSTREAM_CHECK, passed=True)
        limits = settings.limits()
        with release_ledger(lake.spool_folder, limits.ledger_memory_bytes) as ledger:
            add_audits(ledger, audits, kinds, limits.batch)
            if not ledger.audited:
                raise dg.Failure(
                    description="No release: nothing is admitted for the open tier; no audit "
                    "table exists: the rights audits have not run, or they failed.",
                    allow_retries=False,
                )
            ledger.add_clusters(clusters, limits.batch)
            tables = [t for kind in kinds for t in audits.get(kind.audit_asset, {}).values()]
            with sorted_rows(
                tables,
                ledger.left_out,
                image_kinds,
                lake.spool_folder,
                limits.sort_memory_bytes,
                limits.batch,
            ) as rows:
                ledger.summarise(rows.files)
                if not ledger.tiers()["open"]:
                    raise dg.Failure(
                        description="No release: nothing is admitted for the open tier; none of "
                        f"{ledger.audited} audited records is admitted "
                        f"({ledger.decision_counts()}).",
                        allow_retries=False,
                    )
                policy = settings.policy()
                dedupe = {"clusters": ledger.cluster_count(), "removed": ledger.left_out_count()}
                releases = lake.releases
                requests = snapshots.takedowns_of(takedowns)
                decisions = snapshots.reviews_of(reviews)
                takedown_report = applied_takedowns(requests.requests, requests.problems, ledger)
                with releases_locked(releases):
                    previous = latest(releases)
                    version, staged = stage_release(
                        releases,
                        rows,
                        ledger,
                        _policy_record(ledger, policy),
                        dedupe,
                        takedown_report,
                        dt.datetime.now(dt.UTC).date(),
                        filter_counts(lake, ledger),
                        applied_reviews(ledger),
                        limits.batch,
                    )
                    # Unchanged content: the release in force is verified again (against
                    # today's takedowns).
                    checked, manifest, results = _gate(
                        staged or releases / version,
                        requests.requests,
                        policy,
                        decisions.reviews,
                        page_site_files(lake, ledger),
                    )
                    yield from results
                    if checked.violating or manifest:
                        shown = "; ".join(
                            f"{v['source_id']}: {v['problems']}" for v in checked.shown[:5]
                        )
                        raise dg.Failure(
                            description=(
                                f"Release {version} refused by its blocking checks: "
                                f"{checked.violating} row(s) must not be published ({shown})"
                                f"{'; manifest: ' if manifest else ''}{'; '.join(manifest[:3])}. "
                                f"LATEST stays {previous}."
                            ),
                            allow_retries=False,
                        )
                    if staged is not None:
                        promote(releases, staged)
                    elif version != previous:  # verified, but a killed run did not name it
                        point_latest(releases, version)
                shard = "text" if "text" in ledger.tiers()["open"] else "image_text"
                schema = rows.stream("open", shard).collect_schema()
                counts = release_counts(ledger, lineage)
        yield dg.MaterializeResult(
            metadata={
                "version": version,
                "created": staged is not None or version != previous,
                # The snapshots of the steward's inputs this release was verified against.
                snapshots.TAKEDOWNS: snapshots.fingerprint(takedowns),
                snapshots.REVIEWS: snapshots.fingerprint(reviews),
                **counts,
                "bytes": sum(
                    entry["bytes"]
                    for entry in json.loads((releases / version / "MANIFEST.json").read_text())[
                        "files"
                    ]
                ),
                "dagster/column_schema": column_schema(
                    {name: schema[name] for name in COLUMNS[shard] if name in schema}
                ),
                "path": dg.MetadataValue.path(f"releases/{version}"),
                **lake.root_metadata,
                "unmatched_takedowns": table(
                    [t for t in takedown_report if not t["records"] and not t.get("problem")],
                    ("source", "match", "value", "scope", "reason"),
                ),
            }
        )

    return release


release = release_asset(KINDS, RIGHTS_ASSETS, dedup_clusters)
