"""The governance stage's definitions."""

import dagster as dg

from commons_assets.governance.assets import held_records, takedown_requests
from commons_assets.governance.sensors import (
    REAUDIT_JOBS,
    REBUILD_JOB,
    review_sensor,
    takedown_sensor,
)

defs = dg.Definitions(
    assets=[takedown_requests, held_records],
    jobs=[*REAUDIT_JOBS.values(), REBUILD_JOB],
    sensors=[takedown_sensor, review_sensor],
)
