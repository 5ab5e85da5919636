"""The publish stage's definitions: the release of every registered kind."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.defs.publish.assets import release_asset
from commons_assets.kinds import SourceKind


def definitions(
    kinds: Sequence[SourceKind],
    audits: Sequence[dg.AssetsDefinition],
    clusters: dg.AssetsDefinition,
) -> dg.Definitions:
    return dg.Definitions(assets=[release_asset(kinds, audits, clusters)])
