"""Takedown requests as an observable source asset: the UI shows the requests in force, and
every audit asset lists it upstream (lineage from a request to the release)."""

import hashlib
import warnings

import dagster as dg

from commons_assets.reporting import table
from commons_assets.rights.assets import current_takedowns


def _takedown_requests(context: dg.AssetExecutionContext) -> dg.ObserveResult:
    requests, problems = current_takedowns(context.resources.lake)
    keys = sorted(f"{t.match}\t{t.value}\t{t.scope}" for t in requests)
    fingerprint = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
    return dg.ObserveResult(
        data_version=dg.DataVersion(fingerprint),
        metadata={
            "requests": len(requests),
            "unusable_lines": len(problems),
            "in_force": table(
                [
                    {
                        "match": t.match,
                        "value": t.value,
                        "scope": t.scope,
                        "reason": t.reason,
                        "source": t.source,
                    }
                    for t in requests[:50]
                ],
                ("match", "value", "scope", "reason", "source"),
            ),
        },
    )


with warnings.catch_warnings():
    # observable_source_asset is marked beta; the warning would print on every import.
    warnings.simplefilter("ignore", dg.BetaWarning)
    takedown_requests = dg.observable_source_asset(
        name="takedown_requests",
        group_name="governance",
        required_resource_keys={"lake"},
        description=(
            "Takedown requests in policy/takedowns/*.jsonl (match by url, id, sha256 or did; scope "
            "work or record) and social deletions of every day. Observe it to see the requests in "
            "force; the takedown_requests sensor applies new ones."
        ),
    )(_takedown_requests)
