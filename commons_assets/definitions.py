"""The Commons code location: every stage's definitions, sharing one lake resource."""

import dagster as dg

import commons_assets.clean.definitions
import commons_assets.dedupe.definitions
import commons_assets.governance.definitions
import commons_assets.publish.definitions
import commons_assets.rights.definitions
import commons_assets.sources.definitions
from commons_assets.lake import Lake
from commons_assets.operations import follow_upstream_sensor, operated


def _definitions() -> dg.Definitions:
    # Stage modules are referenced, not their `defs` imported, and merged here: Dagster allows
    # one Definitions object at module scope.
    stages = dg.Definitions.merge(
        commons_assets.sources.definitions.defs,
        commons_assets.clean.definitions.defs,
        commons_assets.rights.definitions.defs,
        commons_assets.dedupe.definitions.defs,
        commons_assets.publish.definitions.defs,
        commons_assets.governance.definitions.defs,
    )
    return dg.Definitions(
        assets=operated(list(stages.assets or [])),
        asset_checks=stages.asset_checks,
        jobs=stages.jobs,
        sensors=[*(stages.sensors or []), follow_upstream_sensor],
        resources={"lake": Lake()},
        # A run's steps depend on each other (source -> clean -> rights -> signatures), so they
        # run in sequence anyway: one process per run instead of one per step saves the
        # start-up of a Python process with Dagster and the libraries for every step (measured:
        # a backfill of the sample, 12 runs of 4 steps on 2 cores, 3.5 min with a process per
        # step). Runs still run in parallel, up to the run queue's limit.
        executor=dg.in_process_executor,
    )


defs = _definitions()
