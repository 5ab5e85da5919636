"""The rights audits' checks, partitioned like the audits: the blocking re-verification of
every admitted record from its evidence alone (and the takedown and review snapshots), the
review queue's warning, and what the stages downstream ask of them (`cleared_partitions`,
`require_cleared`): nothing is built on an audit partition its blocking check did not clear."""

import datetime as dt
import warnings

import dagster as dg
import polars as pl
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus,  # not exported by `dagster` in 1.13
)

from commons_assets.defs.clean.assets import SITE_POLICIES
from commons_assets.defs.rights.assets import RIGHTS_ASSETS
from commons_assets.kinds import KINDS, SourceKind
from commons_assets.lake import Lake, read_table
from commons_assets.reporting import table
from commons_assets.rights import snapshots, verify
from commons_assets.rights.audit import ADMITTED, SiteFiles
from commons_assets.rights.site_policies import SitePolicies, fetched_at
from commons_assets.steward import StewardSettings

# Partitioned asset checks are a preview feature in Dagster 1.13 (constraints.txt pins the
# release they are tested with); its warning would print on every import of the code location.
warnings.filterwarnings("ignore", message="Specifying a partitions_def", category=dg.PreviewWarning)


def _snapshot(lake: Lake, name: str) -> tuple[pl.DataFrame, str]:
    """A snapshot of the steward's inputs (rights/snapshots.py) and its fingerprint."""
    path = lake.table_path(name)
    if not path.exists():
        raise dg.Failure(
            description=f"{name} has not been materialized yet: the audit applies its snapshot "
            "of the steward's files; materialize it first (Materialize all does).",
            allow_retries=False,
        )
    frame = read_table(path)
    return frame, snapshots.fingerprint(frame)


def takedown_snapshot(lake: Lake) -> tuple[snapshots.TakedownSnapshot, str]:
    """The takedown requests every audit, check and release applies (the snapshot asset)."""
    frame, fingerprint = _snapshot(lake, snapshots.TAKEDOWNS)
    return snapshots.takedowns_of(frame), fingerprint


def review_snapshot(lake: Lake) -> tuple[snapshots.ReviewSnapshot, str]:
    """The review decisions every audit, check and release applies (the snapshot asset)."""
    frame, fingerprint = _snapshot(lake, snapshots.REVIEWS)
    return snapshots.reviews_of(frame), fingerprint


def site_policies(lake: Lake) -> SitePolicies:
    """Every capture of every site file: a page's evidence must be that of the capture that
    governed it when it was fetched (rights.verify.site_file_problems)."""
    return SitePolicies.from_frame(_snapshot(lake, SITE_POLICIES)[0])


def governing_files(sites: SitePolicies | None, row: dict[str, object]) -> SiteFiles | None:
    """The site files governing a page of an audit or release row (None: not a page)."""
    if sites is None or row.get("source_kind") != "archives":
        return None
    return sites.files_for(str(row.get("source_uri") or ""), fetched_at(row))


ADMISSIBLE_CHECK = "admitted_records_are_admissible"
REVIEW_CHECK = "review_queue"


def audit_checks(audit: dg.AssetsDefinition, kind: SourceKind) -> list[dg.AssetChecksDefinition]:
    """The audit's checks, partitioned like the audit: each evaluation names its partition, so
    a single run, a backfill, `commons build` and a sensor's run all record them per partition
    (a run tag names the partition of a single run only)."""
    name = audit.key.to_user_string()

    @dg.asset_check(
        asset=audit,
        name=ADMISSIBLE_CHECK,
        blocking=True,
        partitions_def=audit.partitions_def,
        description="Blocking: re-verifies from the evidence alone (and the takedown and "
        "review snapshots) that no admitted record is excluded by policy or a takedown; a "
        "page's robots.txt / ai.txt / tdmrep.json evidence must be recomputed from the captures "
        "current when it was fetched (site_policies) and name the same captures. "
        "While a partition's latest evaluation has failed, no release is cut "
        "(release: upstream_audits_passed).",
    )
    def admissible(
        context: dg.AssetCheckExecutionContext, lake: Lake, settings: StewardSettings
    ) -> dg.AssetCheckResult:
        path = lake.table_path(name, context.partition_key)
        takedowns = takedown_snapshot(lake)[0].requests
        policy = settings.policy()
        reviews = review_snapshot(lake)[0].reviews
        sites = site_policies(lake) if kind.site_policies else None
        failures = []
        checked = 0
        if path.exists():
            admitted = read_table(path).filter(pl.col("decision").is_in(ADMITTED))
            for row in admitted.to_dicts():
                checked += 1
                site = governing_files(sites, row)
                if found := verify.problems(
                    row, takedowns, policy=policy, reviews=reviews, site=site
                ):
                    failures.append({"source_id": row["source_id"], "problems": "; ".join(found)})
        return dg.AssetCheckResult(
            passed=not failures,
            metadata={
                "admitted_checked": checked,
                "violations": len(failures),
                "violating_records": table(failures[:20], ("source_id", "problems")),
            },
        )

    @dg.asset_check(
        asset=audit,
        name=REVIEW_CHECK,
        partitions_def=audit.partitions_def,
        description="Warns when records are held for human review or when most "
        "licences are unknown.",
    )
    def review(context: dg.AssetCheckExecutionContext, lake: Lake) -> dg.AssetCheckResult:
        path = lake.table_path(name, context.partition_key)
        if not path.exists():
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"note": f"{name}[{context.partition_key}] has no audit table"},
            )
        frame = read_table(path)
        held = frame.filter(pl.col("decision") == "HOLD")
        # Social posts are admitted by consent, not licence: their missing licences are normal.
        licensed = frame.filter(pl.col("source_kind") != "social")
        unknown = licensed.filter(pl.col("licence_class").fill_null("unknown") == "unknown").height
        share = unknown / licensed.height if licensed.height else 0.0
        parse_errors = sum(
            1
            for evidence in frame["evidence"].to_list()
            for e in evidence or []
            if "parse error" in (e["verdict"] or "")
        )
        return dg.AssetCheckResult(
            passed=held.height == 0 and share <= 0.5 and parse_errors == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "held": held.height,
                "held_records": table(
                    held.sort("held_since").head(20).to_dicts(),
                    ("source_id", "licence_raw", "decision_reason", "held_since"),
                ),
                "oldest_hold_days": _age_days(str(held["held_since"].min())) if held.height else 0,
                "licence_unknown_share": round(share, 4),
                "parser_errors": parse_errors,
            },
        )

    return [admissible, review]


def audit_check_keys(audit: dg.AssetKey) -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(audit, name) for name in (ADMISSIBLE_CHECK, REVIEW_CHECK)]


def _age_days(since: str | None) -> float:
    """Days since an ISO time (0 when unknown)."""
    if not since:
        return 0.0
    held = dt.datetime.fromisoformat(since)
    return round((dt.datetime.now(dt.UTC) - held).total_seconds() / 86400, 2)


def cleared_partitions(
    instance: dg.DagsterInstance, audit: dg.AssetKey, keys: list[str]
) -> tuple[list[str], dict[str, str]]:
    """(the partitions whose latest blocking check passed on their current materialization,
    {partition: why not} for the others): only cleared partitions go on to a release."""
    check = dg.AssetCheckKey(audit, ADMISSIBLE_CHECK)
    infos = {
        info.partition_key: info
        for info in instance.event_log_storage.get_asset_check_partition_info(
            [check], partition_keys=keys
        )
    }
    cleared, held = [], {}
    for key in keys:
        info = infos.get(key)
        if info is None:
            held[key] = f"{ADMISSIBLE_CHECK} never ran"
        elif not info.is_current:
            held[key] = f"{ADMISSIBLE_CHECK} did not run on the current materialization"
        elif info.latest_execution_status != AssetCheckExecutionRecordStatus.SUCCEEDED:
            held[key] = f"{ADMISSIBLE_CHECK} {info.latest_execution_status.value.lower()}"
        else:
            cleared.append(key)
    return cleared, held


def require_cleared(instance: dg.DagsterInstance, audit: dg.AssetKey, key: str) -> None:
    """Stop a step downstream of an audit partition that its blocking check did not clear (it
    failed, or never ran on the current table): whatever launched the step, a run, a backfill
    or `dagster asset materialize`, nothing is built on an unverified audit."""
    _, held = cleared_partitions(instance, audit, [key])
    if key in held:
        raise dg.Failure(
            description=f"{audit.to_user_string()}[{key}] is not cleared: {held[key]}. "
            "Materialize it again with its checks; nothing is built on it until they pass.",
            allow_retries=False,
        )


AUDIT_CHECKS = {
    audit.key: audit_checks(audit, kind) for audit, kind in zip(RIGHTS_ASSETS, KINDS, strict=True)
}
RIGHTS_CHECKS = [check for checks in AUDIT_CHECKS.values() for check in checks]
