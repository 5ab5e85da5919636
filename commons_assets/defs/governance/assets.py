"""Governance assets: the snapshots of the steward's takedown requests and review decisions
that every audit applies (rights/snapshots.py), and the steward's review queue across every
partition and source kind."""

from collections.abc import Sequence

import dagster as dg
import polars as pl

from commons_assets.defs.rights.assets import RIGHTS_ASSETS
from commons_assets.governance.review_queue import QUEUE_COLUMNS, held_in, queue_columns
from commons_assets.lake import Lake
from commons_assets.operations import TRANSIENT_RETRY
from commons_assets.reporting import column_schema, md_list, table
from commons_assets.rights import snapshots
from commons_assets.storage import every_partition

QUEUE_SHOWN = 50


SNAPSHOT_SHOWN = 50


def snapshot_asset(name: str, columns: Sequence[str], description: str) -> dg.AssetsDefinition:
    """A snapshot of the steward's files (rights/snapshots.py): written to the lake, described
    by what is applied, what cannot be, and its fingerprint (also its data version)."""

    @dg.asset(
        name=name,
        group_name="governance",
        retry_policy=TRANSIENT_RETRY,
        kinds={"parquet", "polars"},
        description=description,
    )
    def snapshot(lake: Lake) -> dg.Output[pl.DataFrame]:
        frame = snapshots.FILES[name](lake.root_path)
        fingerprint = snapshots.fingerprint(frame)
        problems = frame["problem"].drop_nulls().to_list()
        in_force = frame.filter(pl.col("problem").is_null())
        return dg.Output(
            frame,
            data_version=dg.DataVersion(fingerprint),
            metadata={
                "dagster/row_count": in_force.height,
                "dagster/column_schema": column_schema(dict(frame.schema), snapshots.COLUMNS),
                "fingerprint": fingerprint,
                "in_force": in_force.height,
                "unusable_lines": len(problems),
                "problems": dg.MetadataValue.md(md_list(problems) or "none"),
                "in_force_lines": table(in_force.head(SNAPSHOT_SHOWN).to_dicts(), columns),
            },
        )

    return snapshot


takedown_requests = snapshot_asset(
    snapshots.TAKEDOWNS,
    ("match", "value", "scope", "reason", "source"),
    "Snapshot of the takedown requests in policy/takedowns/*.jsonl (match by url, id, sha256 or "
    "did; scope work or record) and the social deletions of every day, with each line that "
    "cannot be applied. Every audit, its blocking check and the release apply this snapshot; a "
    "release refuses one older than the files. The takedown_requests sensor refreshes it, then "
    "re-audits what a new request names.",
)
review_decisions = snapshot_asset(
    snapshots.REVIEWS,
    ("match", "value", "decision", "licence", "reviewer", "source"),
    "Snapshot of the stewards' review decisions in policy/reviews/*.jsonl (commons review "
    "decide), with each line that cannot be applied. Every audit, its blocking check and the "
    "release apply this snapshot; a release refuses one older than the files.",
)
AUDIT_INPUTS = [takedown_requests, review_decisions]


def held_records_asset(audits: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """The review queue across every kind's audits."""

    @dg.asset(
        name="held_records",
        ins={audit.key.to_user_string(): every_partition(audit) for audit in audits},
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
    def held_records(**audits: dict[str, pl.LazyFrame]) -> dg.Output[pl.DataFrame]:
        current = (table for partitions in audits.values() for table in partitions.values())
        queue = held_in(queue_columns(current))
        by_partition = (
            queue.group_by("source_kind", "source_partition")
            .agg(held=pl.len(), oldest_days=pl.col("age_days").max())
            .sort("oldest_days", "held", descending=True, nulls_last=True)
        )
        oldest = queue["age_days"].max() if queue.height else None
        return dg.Output(
            queue,
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
            },
        )

    return held_records


held_records = held_records_asset(RIGHTS_ASSETS)
