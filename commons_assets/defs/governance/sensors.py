"""The `takedown_requests` sensor: a new takedown request (or a social deletion) re-audits
exactly the partitions holding a matching record, then — once those runs have finished —
rebuilds the duplicate clusters and the release, so the request reaches the next release."""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import polars as pl
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,  # what define_asset_job returns; not exported in 1.13
)

from commons_assets.defs.dedupe.assets import dedup_clusters
from commons_assets.defs.governance.assets import held_records
from commons_assets.defs.publish.assets import release
from commons_assets.defs.rights.checks import audit_check_keys
from commons_assets.kinds import KINDS, SourceKind
from commons_assets.lake import Lake, read_table
from commons_assets.rights import snapshots
from commons_assets.rights.audit import Takedown, takedown_hits
from commons_assets.rights.reviews import Review, review_for


def reaudit_job_name(kind: SourceKind) -> str:
    return f"reaudit_{kind.suffix}"


def reaudit_jobs(kinds: Sequence[SourceKind]) -> list[UnresolvedAssetJobDefinition]:
    """One job per source kind (a job has one partitions definition): its audit and signatures,
    re-run for the partitions a new takedown or review names."""
    return [
        dg.define_asset_job(
            reaudit_job_name(kind),
            selection=[dg.AssetKey(kind.audit_asset), dg.AssetKey(kind.signature_asset)],
            description=f"Re-audit {kind.suffix} partitions after a takedown.",
        )
        for kind in kinds
    ]


REBUILD_JOB = dg.define_asset_job(
    "rebuild_release",
    selection=[dedup_clusters.key, release.key, held_records.key],
    description="Rebuild the duplicate clusters, the release and the review queue after re-audits.",
)
TRIGGER_TAG = "commons/trigger"
REAUDIT, REBUILD = "takedown", "takedown-release"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dataclass(frozen=True)
class Watch:
    """What a governance sensor watches: steward files whose new entries re-audit exactly the
    partitions holding a record they name, then rebuild the clusters and the release."""

    name: str  # what is watched, as the sensor's note says it
    noun: str  # one new entry, counted
    entries: Callable[[pl.DataFrame], list[Any]]  # the applicable entries of a snapshot frame
    key: Callable[[Any], str]
    names: Callable[[dict[str, Any], list[Any]], bool]  # does a new entry name this record?
    reaudit_tag: str
    rebuild_tag: str
    snapshot: str  # the asset the audits read the entries from (rights/snapshots.py)


def request_key(takedown: Takedown) -> str:
    return f"{takedown.match}\t{takedown.value}\t{takedown.scope}"


TAKEDOWNS = Watch(
    "takedown requests",
    "request(s)",
    lambda frame: snapshots.takedowns_of(frame).requests,
    request_key,
    lambda row, new: bool(takedown_hits(row, new)),
    REAUDIT,
    REBUILD,
    snapshots.TAKEDOWNS,
)
REVIEWS = Watch(
    "review decisions",
    "decision(s)",
    lambda frame: snapshots.reviews_of(frame).reviews,
    Review.key,
    lambda row, new: review_for(row, new) is not None,
    "review",
    "review-release",
    snapshots.REVIEWS,
)
SNAPSHOT_TAG = "snapshot"
# The steward's inputs the audits read, refreshed together before a re-audit.
SNAPSHOT_KEYS = [dg.AssetKey(snapshots.TAKEDOWNS), dg.AssetKey(snapshots.REVIEWS)]
SNAPSHOT_JOB = dg.define_asset_job(
    "refresh_audit_inputs",
    selection=SNAPSHOT_KEYS,
    description="Snapshot the takedown requests and review decisions the audits apply.",
)
ROW_COLUMNS = [
    "id",
    "source_kind",
    "source_partition",
    "source_id",
    "source_uri",
    "sha256",
    "attribution",
    "licence_raw",
]


def affected_partitions(
    lake: Lake,
    new: list[Any],
    instance: dg.DagsterInstance,
    names: Callable[[dict[str, Any], list[Any]], bool] = TAKEDOWNS.names,
    kinds: Sequence[SourceKind] = KINDS,
) -> list[tuple[SourceKind, str]]:
    """(kind, partition) pairs whose clean table holds a record one of the `new` entries names."""
    affected = []
    for kind in kinds:
        for key, path in lake.current_tables(kind.clean_asset, kind.partitions, instance).items():
            rows = read_table(path, columns=ROW_COLUMNS).to_dicts()
            if any(names(row, new) for row in rows):
                affected.append((kind, key))
    return affected


def evaluate(
    cursor: str | None,
    lake: Lake,
    instance: dg.DagsterInstance,
    watch: Watch = TAKEDOWNS,
    kinds: Sequence[SourceKind] = KINDS,
) -> tuple[list[dg.RunRequest], dict[str, Any], str]:
    """The sensor's decision (pure apart from reading the lake and the run list):
    (run requests, new cursor state, a description)."""
    state: dict[str, Any] = json.loads(cursor) if cursor else {"seen": [], "pending": False}
    files = snapshots.FILES[watch.snapshot](lake.root_path)  # read once per tick
    entries = watch.entries(files)
    seen = set(state["seen"])
    new = [entry for entry in entries if watch.key(entry) not in seen]
    if new:
        batch = hashlib.sha256("\n".join(sorted(map(watch.key, new))).encode()).hexdigest()[:12]
        state = {
            "seen": sorted(seen | {watch.key(entry) for entry in entries}),
            "pending": state.get("pending", False),
            "batch": batch,
            "new": sorted({*state.get("new", []), *map(watch.key, new)}),
        }
        if snapshots.staleness(lake.table_path(watch.snapshot), files) is not None:
            # The audits read the snapshot, not the files: refresh it first, re-audit after.
            request = dg.RunRequest(
                run_key=f"{watch.reaudit_tag}-{batch}-{SNAPSHOT_TAG}",
                job_name=SNAPSHOT_JOB.name,
                asset_selection=SNAPSHOT_KEYS,
                tags={TRIGGER_TAG: f"{watch.reaudit_tag}-{SNAPSHOT_TAG}"},
            )
            return [request], state, f"{len(new)} new {watch.noun}; refreshing {watch.snapshot}"
    if state.get("new"):
        running = instance.get_run_records(
            dg.RunsFilter(
                tags={TRIGGER_TAG: f"{watch.reaudit_tag}-{SNAPSHOT_TAG}"}, statuses=IN_FLIGHT
            )
        )
        if running:
            return [], state, f"waiting for the {watch.snapshot} snapshot"
        named = set(state["new"])
        new = [entry for entry in entries if watch.key(entry) in named]
        batch = state.get("batch", "x")
        requests = []
        for kind, partition in affected_partitions(lake, new, instance, watch.names, kinds):
            audit = dg.AssetKey(kind.audit_asset)
            requests.append(
                dg.RunRequest(
                    run_key=f"{watch.reaudit_tag}-{batch}-{kind.audit_asset}-{partition}",
                    job_name=reaudit_job_name(kind),
                    asset_selection=[audit, dg.AssetKey(kind.signature_asset)],
                    # The audit's checks run with it: the release waits for them to pass.
                    asset_check_keys=audit_check_keys(audit),
                    partition_key=partition,
                    tags={TRIGGER_TAG: watch.reaudit_tag},
                )
            )
        state = {**state, "new": [], "pending": state.get("pending", False) or bool(requests)}
        return requests, state, f"{len(new)} new {watch.noun}; {len(requests)} partition(s)"
    if state.get("pending"):
        running = instance.get_run_records(
            dg.RunsFilter(tags={TRIGGER_TAG: watch.reaudit_tag}, statuses=IN_FLIGHT)
        )
        if running:
            return [], state, f"waiting for {len(running)} re-audit run(s)"
        request = dg.RunRequest(
            run_key=f"{watch.rebuild_tag}-{state.get('batch', 'x')}",
            job_name=REBUILD_JOB.name,
            asset_selection=[dedup_clusters.key, release.key, held_records.key],
            tags={TRIGGER_TAG: watch.rebuild_tag},
        )
        return [request], {**state, "pending": False}, "re-audits done: rebuilding the release"
    return [], state, f"no new {watch.name}"


def _governance_sensor(
    watch: Watch,
    name: str,
    description: str,
    kinds: Sequence[SourceKind],
    jobs: Sequence[UnresolvedAssetJobDefinition],
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        jobs=list(jobs),
        description=description,
    )
    def sensor(context: dg.SensorEvaluationContext, lake: Lake) -> dg.SensorResult:
        requests, state, note = evaluate(context.cursor, lake, context.instance, watch, kinds)
        context.log.info(note)
        return dg.SensorResult(
            run_requests=requests,
            cursor=json.dumps(state),
            skip_reason=None if requests else note,
        )

    return sensor


def governance_sensors(kinds: Sequence[SourceKind]) -> dg.Definitions:
    """The re-audit jobs of every kind, the rebuild job, and the two sensors that launch them."""
    jobs = [*reaudit_jobs(kinds), REBUILD_JOB, SNAPSHOT_JOB]
    takedowns = _governance_sensor(
        TAKEDOWNS,
        "takedown_requests",
        "Watches policy/takedowns/*.jsonl and social deletions. A new request re-audits the "
        "partitions that hold a matching record; when those runs are done, the duplicate "
        "clusters and the release are rebuilt, so the next release omits the records.",
        kinds,
        jobs,
    )
    reviews = _governance_sensor(
        REVIEWS,
        "review_decisions",
        "Watches policy/reviews/*.jsonl (commons review decide). A new decision re-audits the "
        "partitions that hold a record it names; when those runs are done, the duplicate "
        "clusters and the release are rebuilt, so the next release carries or omits the "
        "records.",
        kinds,
        jobs,
    )
    return dg.Definitions(jobs=jobs, sensors=[takedowns, reviews])
