"""The governance stage's definitions."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.defs.governance.assets import AUDIT_INPUTS, held_records_asset
from commons_assets.defs.governance.sensors import governance_sensors
from commons_assets.kinds import SourceKind


def definitions(
    kinds: Sequence[SourceKind], audits: Sequence[dg.AssetsDefinition]
) -> dg.Definitions:
    return dg.Definitions.merge(
        dg.Definitions(assets=[*AUDIT_INPUTS, held_records_asset(audits)]),
        governance_sensors(kinds),
    )
