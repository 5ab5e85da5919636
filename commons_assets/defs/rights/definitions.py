"""The rights stage's definitions: the site policies, one audit per registered kind and each
audit's partitioned checks."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.defs.rights.assets import audit_asset, site_policies
from commons_assets.defs.rights.checks import audit_checks
from commons_assets.kinds import SourceKind


def definitions(
    kinds: Sequence[SourceKind], cleans: Sequence[dg.AssetsDefinition]
) -> dg.Definitions:
    audits = [audit_asset(kind, clean) for kind, clean in zip(kinds, cleans, strict=True)]
    return dg.Definitions(
        assets=[site_policies, *audits],
        asset_checks=[
            check
            for audit, kind in zip(audits, kinds, strict=True)
            for check in audit_checks(audit, kind)
        ],
    )
