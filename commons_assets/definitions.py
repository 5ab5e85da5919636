"""The Commons code location: every stage's definitions, sharing one lake resource."""

import dagster as dg

import commons_assets.clean.definitions
import commons_assets.dedupe.definitions
import commons_assets.governance.definitions
import commons_assets.publish.definitions
import commons_assets.rights.definitions
import commons_assets.sources.definitions
from commons_assets.lake import Lake

# Stage modules are referenced, not their `defs` imported: Dagster allows one Definitions object
# at module scope.
defs = dg.Definitions.merge(
    commons_assets.sources.definitions.defs,
    commons_assets.clean.definitions.defs,
    commons_assets.rights.definitions.defs,
    commons_assets.dedupe.definitions.defs,
    commons_assets.publish.definitions.defs,
    commons_assets.governance.definitions.defs,
    dg.Definitions(resources={"lake": Lake()}),
)
