"""The source stage's definitions."""

import dagster as dg

from commons_assets.sources.assets import SOURCE_ASSETS
from commons_assets.sources.sensors import source_partitions_sensor

defs = dg.Definitions(assets=SOURCE_ASSETS, sensors=[source_partitions_sensor])
