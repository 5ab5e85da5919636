"""The clean stage's definitions: one clean asset per registered kind."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.defs.clean.assets import clean_asset
from commons_assets.kinds import SourceKind


def definitions(
    kinds: Sequence[SourceKind], sources: Sequence[dg.AssetsDefinition]
) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            clean_asset(kind, source, kinds) for kind, source in zip(kinds, sources, strict=True)
        ]
    )
