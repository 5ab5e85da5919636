"""The governance stage's definitions."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.governance.assets import held_records_asset, takedown_requests
from commons_assets.governance.sensors import governance_sensors
from commons_assets.kinds import SourceKind


def definitions(
    kinds: Sequence[SourceKind], audits: Sequence[dg.AssetsDefinition]
) -> dg.Definitions:
    return dg.Definitions.merge(
        dg.Definitions(assets=[takedown_requests, held_records_asset(audits)]),
        governance_sensors(kinds),
    )
