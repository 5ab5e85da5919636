"""Governance assets: takedown requests as an observable source asset (the UI shows the requests
in force, and every audit asset lists it upstream), and the steward's review queue across every
partition and source kind."""

import hashlib
import warnings
from collections.abc import Sequence

import dagster as dg
import polars as pl

from commons_assets.governance.review_queue import QUEUE_COLUMNS, held
from commons_assets.lake import Lake
from commons_assets.operations import TRANSIENT_RETRY
from commons_assets.reporting import column_schema, table
from commons_assets.rights.assets import RIGHTS_ASSETS, current_takedowns

QUEUE_SHOWN = 50


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


def held_records_asset(audits: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """The review queue across every kind's audits."""

    @dg.asset(
        name="held_records",
        deps=audits,
        group_name="governance",
        retry_policy=TRANSIENT_RETRY,
        kinds={"parquet", "polars"},
        description=(
            "The steward's review queue: every record held for review, across all partitions "
            "and source kinds, the longest-waiting first, with its age. Decide them with "
            "`commons review decide` (policy/reviews/); the review_decisions sensor re-audits "
            "what a decision names. Each audit partition's review_queue check shows its own "
            "part of the queue."
        ),
    )
    def held_records(context: dg.AssetExecutionContext, lake: Lake) -> dg.MaterializeResult:
        queue = held(lake.root_path)
        path = lake.write_table("held_records", "all", queue)
        by_partition = (
            queue.group_by("source_kind", "source_partition")
            .agg(held=pl.len(), oldest_days=pl.col("age_days").max())
            .sort("oldest_days", "held", descending=True, nulls_last=True)
        )
        oldest = queue["age_days"].max() if queue.height else None
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": queue.height,
                "dagster/column_schema": column_schema(dict(queue.schema)),
                "held": queue.height,
                "oldest_hold_days": float(oldest) if isinstance(oldest, int | float) else 0.0,
                "by_partition": table(
                    by_partition.to_dicts(),
                    ("source_kind", "source_partition", "held", "oldest_days"),
                ),
                "queue": table(
                    queue.head(QUEUE_SHOWN).to_dicts(), (*QUEUE_COLUMNS[1:], "age_days", "id")
                ),
                "how_to_decide": dg.MetadataValue.md(
                    "`commons review show ID`, then `commons review decide ID --include --licence "
                    "SPDX --reason … --reviewer …` (or `--exclude`); bulk: `commons review decide "
                    "--licence-raw STATEMENT [--partition P] …`"
                ),
                "path": dg.MetadataValue.path(lake.relative(path)),
                **lake.root_metadata,
            }
        )

    return held_records


held_records = held_records_asset(RIGHTS_ASSETS)
