"""The publish stage's definitions."""

import dagster as dg

from commons_assets.publish.assets import release

defs = dg.Definitions(assets=[release])
