"""The steward's review queue, read from the lake: the records held for review, one record with
its evidence, and a decision written to `policy/reviews/` (rights/reviews.py). The decision takes
effect when the record's partition is audited again (the `review_decisions` sensor does that,
as does `commons build`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import polars as pl
from upath import UPath

from commons_assets.lake import Lake, read_table, scan_table
from commons_assets.rights.reviews import append_review, review_line

UNREVIEWABLE_GATES = ("takedown", "opt-out")  # reviews come after them (rights/audit.py)


def unreviewable(record: dict[str, Any]) -> bool:
    """A takedown or an opt-out excluded it: no review overrides that. An opt-out gate's HOLD
    (a signal that cannot be read: robots.txt unreachable or never captured) is reviewable."""
    return record.get("gate") in UNREVIEWABLE_GATES and record.get("decision") != "HOLD"


QUEUE_COLUMNS = [
    "id",
    "source_kind",
    "source_partition",
    "source_id",
    "licence_raw",
    "decision",
    "decision_reason",
    "held_since",
]


def audit_tables(root: UPath) -> list[UPath]:
    return Lake(root=str(root)).tables_of("rights_")


def queue_columns(tables: Iterable[pl.LazyFrame]) -> pl.DataFrame:
    """Every audited record (all decisions) of `tables` with the columns the queue shows."""
    wanted = [*QUEUE_COLUMNS, "sha256"]
    frames = []
    for table in tables:
        present = table.collect_schema().names()
        frames.append(
            table.select(
                pl.col(c) if c in present else pl.lit(None, pl.String).alias(c) for c in wanted
            ).collect()
        )
    if not frames:
        return pl.DataFrame(schema={c: pl.String for c in wanted})
    return pl.concat(frames)


def audited(root: UPath) -> pl.DataFrame:
    """Every audited record in the lake, whether its partition is current or not (the CLI's
    search: a record of a removed source can still be shown)."""
    return queue_columns(scan_table(path) for path in audit_tables(root))


def held(root: UPath, now: dt.datetime | None = None) -> pl.DataFrame:
    """Records held for review in the lake, the longest-waiting first, with their age."""
    return held_in(audited(root), now)


def held_in(audited: pl.DataFrame, now: dt.datetime | None = None) -> pl.DataFrame:
    """The held records of `audited`, the longest-waiting first, with their age in days."""
    now = now or dt.datetime.now(dt.UTC)
    queue = audited.filter(pl.col("decision") == "HOLD")
    since = pl.col("held_since").str.to_datetime(time_zone="UTC", strict=False)
    return queue.with_columns(age_days=((pl.lit(now) - since).dt.total_hours() / 24).round(1)).sort(
        ["held_since", "id"], nulls_last=True
    )


def find(root: UPath, key: str) -> list[dict[str, Any]]:
    """Audited records whose id (or a prefix of at least 8 characters), sha256 or source id is
    `key`, with their full audit row (evidence included)."""
    found = []
    for path in audit_tables(root):
        frame = read_table(path)
        match = (pl.col("source_id") == key) | (pl.col("sha256") == key)
        match = match | (
            pl.col("id").str.starts_with(key) if len(key) >= 8 else pl.col("id") == key
        )
        found += frame.filter(match).to_dicts()
    return found


def decide_record(
    root: UPath,
    key: str,
    decision: str,
    reviewer: str,
    reason: str,
    licence: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Write a decision on one record; (the record, where the decision was written)."""
    records = find(root, key)
    ids = {record["id"] for record in records}
    if not ids:
        raise LookupError(f"no audited record has id, sha256 or source id {key!r}")
    if len(ids) > 1:
        raise LookupError(f"{key!r} names {len(ids)} records: give the full record id")
    record = records[0]
    if unreviewable(record):
        raise LookupError(
            f"{record['source_id']} was decided by the {record['gate']} gate "
            f"({record['decision_reason']}): a review never overrides a takedown or an opt-out"
        )
    line = review_line("id", record["id"], decision, reviewer, reason, licence)
    return record, append_review(root, line)


def decide_licence_string(
    root: UPath,
    licence_raw: str,
    decision: str,
    reviewer: str,
    reason: str,
    licence: str | None = None,
    partition: str | None = None,
) -> tuple[int, str]:
    """A bulk decision on every record whose licence statement is `licence_raw` (in one source
    partition, or everywhere); (records it names today, where it was written)."""
    matching = audited(root).filter(pl.col("licence_raw") == licence_raw)
    if partition is not None:
        matching = matching.filter(pl.col("source_partition") == partition)
    if not matching.height:
        scope = f" in {partition}" if partition else ""
        raise LookupError(f"no audited record states the licence {licence_raw!r}{scope}")
    line = review_line("licence_raw", licence_raw, decision, reviewer, reason, licence, partition)
    return matching.height, append_review(root, line)
