"""The rights stage's definitions."""

import dagster as dg

from commons_assets.rights.assets import RIGHTS_ASSETS, RIGHTS_CHECKS

defs = dg.Definitions(assets=RIGHTS_ASSETS, asset_checks=RIGHTS_CHECKS)
