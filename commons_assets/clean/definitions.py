"""The clean stage's definitions."""

import dagster as dg

from commons_assets.clean.assets import CLEAN_ASSETS

defs = dg.Definitions(assets=CLEAN_ASSETS)
