"""How the assets are operated: who owns each stage, how partitions are backfilled, which steps
share the cores, what is retried, and what follows its upstream once automation is turned on.
Stage modules declare the data's journey; this module declares its operation, in one place."""

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

# Owners shown on every asset page (Dagster accepts e-mail addresses or `team:` names).
OWNERS = {
    "sources": ["team:collections"],
    "clean": ["team:data-engineering"],
    "rights": ["team:rights-review"],
    "dedupe": ["team:data-engineering"],
    "publish": ["team:data-stewards"],
    "governance": ["team:rights-review"],
}

# One partition per run, for every partitioned asset: each partition keeps its own metadata
# (outcomes, quarantine, decisions), its own retries and its own failure, so one bad archive
# fails alone and the rest of a backfill goes through. Runs are small; the run queue
# (dagster.yaml: 4 runs at a time) and the `cpu` pool below keep a 100-partition backfill from
# thrashing a 2-core laptop. This is Dagster's default (no backfill policy): each run carries its
# partition as the `dagster/partition` tag. A `BackfillPolicy.multi_run(1)` gives the same runs
# but tags them with a one-partition range instead, and Dagster 1.13 then records partitioned
# asset check evaluations without their partition (`AssetCheckResult.to_asset_check_evaluation`
# reads only the partition tag): the release would find every audit partition unchecked.

# CPU-bound steps (HTML extraction, language identification, MinHash) share this pool; its limit
# is the number of cores (dagster.yaml: concurrency.pools.default_limit), while I/O-light steps
# of other runs go on.
CPU_POOL = "cpu"


def per_partition_asset(
    name: str,
    partitions: dg.PartitionsDefinition,
    group: str,
    deps: Iterable[Any],
    tags: Iterable[str],
    description: str,
    cpu_bound: bool = False,
    ins: Mapping[str, dg.AssetIn] | None = None,
) -> Any:
    """The decorator of a per-kind, partitioned asset: retried on transient failures, and in
    the `cpu` pool when its step is CPU-bound. One partition per run (see above). `ins` are
    the upstream tables the asset reads (loaded by the lake's IO manager), `deps` the upstream
    assets it waits on without reading."""
    return dg.asset(
        name=name,
        partitions_def=partitions,
        ins=dict(ins or {}),
        deps=list(deps),
        group_name=group,
        retry_policy=TRANSIENT_RETRY,
        pool=CPU_POOL if cpu_bound else None,
        kinds=set(tags),
        description=description,
    )


# Transient failures (a file being written by a sync job, a full disk, a lock held too long)
# are retried with backoff; deterministic ones (invalid settings, a missing upstream partition)
# raise dg.Failure(allow_retries=False) and fail at once.
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)

# What each stage does once the user turns on the `follow_upstream` sensor: partitions follow
# their upstream (a new or re-synced source partition is cleaned, audited and signed; the
# clusters follow the signatures), while a release is cut at most once a day, after 04:00 UTC,
# and only when something upstream changed.
FOLLOW_UPSTREAM = dg.AutomationCondition.eager()
DAILY_RELEASE = dg.AutomationCondition.on_cron("0 4 * * *")
AUTOMATION = {
    "sources": FOLLOW_UPSTREAM,
    "clean": FOLLOW_UPSTREAM,
    "rights": FOLLOW_UPSTREAM,
    "dedupe": FOLLOW_UPSTREAM,
    "publish": DAILY_RELEASE,
    "governance": FOLLOW_UPSTREAM,  # the review queue follows the audits
}


def _operated(spec: dg.AssetSpec) -> dg.AssetSpec:
    group = spec.group_name or "default"
    return spec.replace_attributes(
        owners=OWNERS.get(group, []),
        automation_condition=AUTOMATION.get(group, spec.automation_condition),
    )


def operated(
    assets: Iterable[Any],
) -> list[dg.AssetsDefinition | dg.SourceAsset]:
    """Owners, automation conditions and links to the code that defines each asset (observable
    source assets are left as they are)."""
    kept = [a for a in assets if isinstance(a, dg.AssetsDefinition)]
    definitions = [a.map_asset_specs(_operated) for a in kept]
    others = [a for a in assets if not isinstance(a, dg.AssetsDefinition)]
    with warnings.catch_warnings():  # code references are beta in Dagster 1.13
        warnings.simplefilter("ignore", dg.BetaWarning)
        return [*dg.with_source_code_references(definitions), *others]


# Off by default: a steward opts in from the UI (Automation page) once the sources are in place.
follow_upstream_sensor = dg.AutomationConditionSensorDefinition(
    "follow_upstream",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=30,
    description=(
        "Materializes partitions whose upstream changed (eager), and cuts a release at most "
        "once a day (04:00 UTC) when something upstream changed. Off until you turn it on."
    ),
)


def with_upstream_sources(
    selected: Sequence[Any], available: Iterable[dg.AssetsDefinition]
) -> list[Any]:
    """`selected` (assets and checks), plus every upstream asset they read or wait on as an
    external source: a run of a few assets loads the rest from the lake, with the upstream's
    partitions (`dg.materialize` needs each input's producer in its list)."""
    given = [item for item in selected if isinstance(item, dg.AssetsDefinition)]
    produced = {key for item in given for key in item.keys}
    wanted = {key for item in given for key in item.dependency_keys} - produced
    sources: list[Any] = []
    for asset in available:
        sources += [s for s in asset.to_source_assets() if s.key in wanted]
    return [*selected, *sources]
