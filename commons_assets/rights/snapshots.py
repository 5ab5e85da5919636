"""Snapshots of the steward's inputs the audit applies: takedown requests (with social deletions)
and review decisions. The `takedown_requests` and `review_decisions` assets write them to the
lake; every audit partition, its blocking check and the release read these tables, never the
files, so all of them apply the same declared input and name its fingerprint. A release refuses
a snapshot older than the files (a request filed since must reach it)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

import polars as pl
from upath import UPath

from commons_assets.lake import read_table
from commons_assets.records import Schema
from commons_assets.rights.audit import Takedown
from commons_assets.rights.inputs import load_takedowns, social_deletions
from commons_assets.rights.reviews import Review, load_reviews

TAKEDOWNS = "takedown_requests"
REVIEWS = "review_decisions"

# One row per line of the steward's files: a request or decision, or (`problem`) why the line
# cannot be applied.
TAKEDOWN_SCHEMA: Schema = {
    **{f.name: pl.String for f in fields(Takedown)},
    "problem": pl.String,
}
REVIEW_SCHEMA: Schema = {**{f.name: pl.String for f in fields(Review)}, "problem": pl.String}
# What each column of a snapshot holds (shown on the asset page).
COLUMNS = {
    "match": "What the line matches records by: url, id, sha256 or did (takedowns); id, "
    "source_id, sha256 or licence_raw (reviews).",
    "value": "The value a record's `match` field must have.",
    "reason": "Why the request or decision was made, as its author wrote it.",
    "requested_at": "When the takedown was requested (the day, for a social deletion).",
    "scope": "record: the matching records only; work: also their duplicates.",
    "source": "Where the line is: file:line under the data root.",
    "decision": "include or exclude.",
    "licence": "The licence a steward found for an included record (SPDX).",
    "reviewer": "Who decided.",
    "decided_at": "When the decision was made (ISO time).",
    "partition": "The source partition the decision is limited to, if any.",
    "problem": "Why the line cannot be applied (then every other column is empty).",
}


@dataclass(frozen=True)
class TakedownSnapshot:
    requests: list[Takedown]
    problems: list[str]


@dataclass(frozen=True)
class ReviewSnapshot:
    reviews: list[Review]
    problems: list[str]


def takedown_frame(requests: list[Takedown], problems: list[str]) -> pl.DataFrame:
    rows = [asdict(t) | {"problem": None} for t in requests]
    rows += [{"problem": problem} for problem in problems]
    return pl.DataFrame(rows, schema=TAKEDOWN_SCHEMA)


def review_frame(reviews: list[Review], problems: list[str]) -> pl.DataFrame:
    rows = [asdict(r) | {"problem": None} for r in reviews]
    rows += [{"problem": problem} for problem in problems]
    return pl.DataFrame(rows, schema=REVIEW_SCHEMA)


def takedowns_of(frame: pl.DataFrame) -> TakedownSnapshot:
    applied = frame.filter(pl.col("problem").is_null()).drop("problem")
    return TakedownSnapshot(
        [Takedown(**row) for row in applied.to_dicts()],
        frame["problem"].drop_nulls().to_list(),
    )


def reviews_of(frame: pl.DataFrame) -> ReviewSnapshot:
    applied = frame.filter(pl.col("problem").is_null()).drop("problem")
    return ReviewSnapshot(
        [Review(**row) for row in applied.to_dicts()],
        frame["problem"].drop_nulls().to_list(),
    )


def fingerprint(frame: pl.DataFrame) -> str:
    """What a snapshot holds, whatever the order of its files' lines (16 hex digits)."""
    rows = sorted(json.dumps(row, sort_keys=True) for row in frame.to_dicts())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def takedown_files(root: UPath) -> pl.DataFrame:
    """The takedown requests as the files say them now (policy/takedowns, social deletions)."""
    requests, problems = load_takedowns(root)
    return takedown_frame(requests + social_deletions(root), problems)


def review_files(root: UPath) -> pl.DataFrame:
    """The review decisions as the files say them now (policy/reviews)."""
    return review_frame(*load_reviews(root))


# Each snapshot asset and how to read what its files say now.
FILES = {TAKEDOWNS: takedown_files, REVIEWS: review_files}


def staleness(snapshot: UPath, files: pl.DataFrame) -> str | None:
    """Why a snapshot table does not hold what the files say now (`files`), or None."""
    if not snapshot.exists():
        return "never materialized"
    if fingerprint(read_table(snapshot)) != fingerprint(files):
        return (
            "older than the steward's files: materialize it, then audit again the partitions it "
            "names (the takedown_requests sensor does both)"
        )
    return None
