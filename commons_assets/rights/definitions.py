"""The rights stage's definitions."""

import dagster as dg

from commons_assets.rights.assets import RIGHTS_ASSETS, RIGHTS_CHECKS, SITE_ASSETS

defs = dg.Definitions(assets=[*SITE_ASSETS, *RIGHTS_ASSETS], asset_checks=RIGHTS_CHECKS)
