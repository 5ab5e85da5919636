"""The source stage's definitions: one source asset per registered kind, and the sensor that
registers their partitions."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.defs.sources.assets import source_asset
from commons_assets.defs.sources.sensors import source_partitions_sensor_for
from commons_assets.kinds import SourceKind


def definitions(kinds: Sequence[SourceKind]) -> dg.Definitions:
    return dg.Definitions(
        assets=[source_asset(kind) for kind in kinds],
        sensors=[source_partitions_sensor_for(kinds)],
    )
