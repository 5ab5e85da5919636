"""The dedupe stage's definitions."""

import dagster as dg

from commons_assets.dedupe.assets import DEDUPE_ASSETS

defs = dg.Definitions(assets=DEDUPE_ASSETS)
