"""The Commons code location: every stage's definitions, generated from the registry of source
kinds (kinds.py) and sharing one lake resource."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.defs.clean import definitions as clean
from commons_assets.defs.dedupe import definitions as dedupe
from commons_assets.defs.governance import definitions as governance
from commons_assets.defs.publish import definitions as publish
from commons_assets.defs.rights import definitions as rights
from commons_assets.defs.sources import definitions as sources
from commons_assets.kinds import KINDS, SourceKind
from commons_assets.lake import Lake
from commons_assets.operations import follow_upstream_sensor, operated
from commons_assets.steward import resources_for


def _of(stage: dg.Definitions, prefix: str) -> list[dg.AssetsDefinition]:
    """A stage's assets whose names start with `prefix`, in the registry's order."""
    return [
        asset
        for asset in stage.assets or []
        if isinstance(asset, dg.AssetsDefinition) and asset.key.to_user_string().startswith(prefix)
    ]


def build_defs(kinds: Sequence[SourceKind] = KINDS) -> dg.Definitions:
    """Every stage for the given source kinds (the registry by default). A run's steps go in
    order in its process (the in-process executor), here and on a cluster (scale_out.py: each
    run a Ray job)."""
    source_stage = sources.definitions(kinds)
    source_assets = [a for a in source_stage.assets or [] if isinstance(a, dg.AssetsDefinition)]
    clean_stage = clean.definitions(kinds, source_assets)
    rights_stage = rights.definitions(kinds, _of(clean_stage, "clean_"))
    audits = _of(rights_stage, "rights_")
    dedupe_stage = dedupe.definitions(kinds, audits)
    (clusters,) = _of(dedupe_stage, "dedup_clusters")
    stages = dg.Definitions.merge(
        source_stage,
        clean_stage,
        rights_stage,
        dedupe_stage,
        publish.definitions(kinds, audits, clusters),
        governance.definitions(kinds, audits),
    )
    return dg.Definitions(
        assets=operated(stages.assets or []),
        asset_checks=stages.asset_checks,
        jobs=stages.jobs,
        sensors=[*(stages.sensors or []), follow_upstream_sensor],
        resources=resources_for(Lake()),
        # A run's steps depend on each other (source -> clean -> rights -> signatures), so they
        # run in sequence anyway: one process per run instead of one per step saves the
        # start-up of a Python process with Dagster and the libraries for every step (measured:
        # a backfill of the sample, 12 runs of 4 steps on 2 cores, 3.5 min with a process per
        # step). Runs still run in parallel, up to the run queue's limit.
        executor=dg.in_process_executor,
    )


defs = build_defs()
