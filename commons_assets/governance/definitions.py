"""The governance stage's definitions."""

import dagster as dg

from commons_assets.governance.sensors import takedown_sensor

defs = dg.Definitions(sensors=[takedown_sensor])
