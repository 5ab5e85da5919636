"""The Commons code location: every stage's definitions, sharing one lake resource."""

import dagster as dg

from commons_assets import sources
from commons_assets.lake import Lake

# Stage packages are imported as modules: Dagster allows one Definitions object at module scope.
defs = dg.Definitions.merge(sources.definitions.defs, dg.Definitions(resources={"lake": Lake()}))
