"""The dedupe stage's definitions: one signature asset per registered kind, and the clusters
across all of them."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.defs.dedupe.assets import dedup_clusters_asset, signature_asset
from commons_assets.kinds import SourceKind


def definitions(
    kinds: Sequence[SourceKind], audits: Sequence[dg.AssetsDefinition]
) -> dg.Definitions:
    signatures = [signature_asset(kind, audit) for kind, audit in zip(kinds, audits, strict=True)]
    return dg.Definitions(assets=[*signatures, dedup_clusters_asset(kinds, signatures)])
