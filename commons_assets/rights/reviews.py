"""A steward's decisions on records (DESIGN.md §5 `policy/reviews/*.jsonl`): the way out of HOLD.

One decision per line, appended, never edited:

    {"match": "id", "value": "3f2a…", "decision": "include", "licence": "CC-BY-4.0",
     "reviewer": "ana@archive.example", "reason": "publisher confirmed the licence by e-mail",
     "decided_at": "2026-11-25T10:04:00+00:00"}

- `match` + `value` name the subject: a record `id`, its `sha256`, its `source_id`, or, for a
  bulk decision, every record whose `licence_raw` is exactly `value`; `partition` (optional)
  limits the decision to one source partition (a collection, a WARC, a day).
- `decision` is `include` or `exclude`. An include carries the steward's licence determination
  (`licence`: SPDX id, licence URL or rights statement), classified like any licence statement:
  a determination that is not an open licence is refused, so a review can only admit what the
  policy admits. An exclude needs no licence.
- `reviewer`, `reason` and `decided_at` are required: the decision is evidence on the record.

For one record the most specific decision wins (record id, then sha256, then source id, then a
bulk licence-string decision; one scoped to the record's partition before an unscoped one), and
among equals the latest line. A line that breaks these rules is reported and not applied: the
record stays held (fail closed). Reviews are a gate after takedowns and opt-outs: they never
override those (`rights.audit.decide`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from upath import UPath

from commons_assets.lake import is_remote
from commons_assets.rights.licences import INCLUDE, INCLUDE_ATTRIB, classify_licence
from commons_assets.sources.jsonl import steward_lines

REVIEW_FOLDER = Path("policy") / "reviews"
# Most specific first: the order in which a record's decisions are preferred.
REVIEW_MATCHES = ("id", "sha256", "source_id", "licence_raw")
DECISIONS = ("include", "exclude")
REQUIRED_TEXT = ("reviewer", "reason", "decided_at")


@dataclass(frozen=True)
class Review:
    match: str
    value: str
    decision: str  # include | exclude
    licence: str | None
    reviewer: str
    reason: str
    decided_at: str
    partition: str | None = None
    source: str = ""  # file:line, shown as the evidence's location

    def key(self) -> str:
        """The decision's identity: a changed or withdrawn line is a different key."""
        return hashlib.sha256(
            json.dumps(asdict(self) | {"source": ""}, sort_keys=True).encode()
        ).hexdigest()[:16]

    def subject(self) -> str:
        scope = f" in {self.partition}" if self.partition else ""
        return f"{self.match}={self.value}{scope}"


def parse_review(obj: Any, where: str) -> tuple[Review | None, str | None]:
    """(review, None) for a valid line, (None, why not) otherwise."""
    if not isinstance(obj, dict):
        return None, f"{where}: not a JSON object"
    match, value, decision = obj.get("match"), obj.get("value"), obj.get("decision")
    if match not in REVIEW_MATCHES or not isinstance(value, str) or not value:
        return None, f"{where}: needs match in {REVIEW_MATCHES} and a value"
    if decision not in DECISIONS:
        return None, f"{where}: decision must be one of {DECISIONS}"
    for name in REQUIRED_TEXT:
        if not isinstance(obj.get(name), str) or not obj[name].strip():
            return None, f"{where}: {name} is required (a non-empty string)"
    partition = obj.get("partition")
    if partition is not None and (not isinstance(partition, str) or not partition):
        return None, f"{where}: partition must be a non-empty string when given"
    licence = obj.get("licence")
    if licence is not None and not isinstance(licence, str):
        return None, f"{where}: licence must be a string"
    if decision == "include":
        if not licence:
            return None, f"{where}: an include needs the licence determination (licence)"
        verdict = classify_licence(licence)
        if verdict.outcome not in (INCLUDE, INCLUDE_ATTRIB):
            return None, (
                f"{where}: licence {licence!r} classifies as {verdict.outcome} "
                f"({verdict.licence_class}); a review can only include under an open licence"
            )
    review = Review(
        match,
        value,
        decision,
        licence,
        obj["reviewer"].strip(),
        obj["reason"].strip(),
        obj["decided_at"].strip(),
        partition,
        where,
    )
    return review, None


def load_reviews(root: UPath) -> tuple[list[Review], list[str]]:
    """Every valid decision under `policy/reviews/*.jsonl`, in file and line order, and a
    description of each line that was not applied."""
    reviews: list[Review] = []
    problems: list[str] = []
    for where, obj, error in steward_lines(root, REVIEW_FOLDER):
        review, problem = (None, error) if error else parse_review(obj, where)
        if review is not None:
            reviews.append(review)
        else:
            problems.append(problem or where)
    return reviews, problems


def review_for(record: Mapping[str, Any], reviews: Iterable[Review]) -> Review | None:
    """The decision in force for this record: the most specific, then the latest."""
    best: tuple[tuple[int, int], int, Review] | None = None
    for order, review in enumerate(reviews):
        if record.get(review.match) != review.value:
            continue
        if review.partition is not None and review.partition != record.get("source_partition"):
            continue
        rank = (REVIEW_MATCHES.index(review.match), 0 if review.partition else 1)
        if best is None or rank < best[0] or (rank == best[0] and order > best[1]):
            best = (rank, order, review)
    return best[2] if best else None


def review_line(
    match: str,
    value: str,
    decision: str,
    reviewer: str,
    reason: str,
    licence: str | None = None,
    partition: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A decision as it is written to a review file (validated by `parse_review`)."""
    line: dict[str, Any] = {"match": match, "value": value}
    if partition:
        line["partition"] = partition
    line |= {"decision": decision}
    if licence:
        line["licence"] = licence
    decided_at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    return line | {"reviewer": reviewer, "reason": reason, "decided_at": decided_at}


def append_review(root: UPath, line: dict[str, Any], file_name: str = "decisions.jsonl") -> str:
    """Append one validated decision to `policy/reviews/<file_name>`; returns its file:line."""
    path = root / REVIEW_FOLDER / file_name
    existing = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    where = f"{path.relative_to(root).as_posix()}:{len(existing) + 1}"
    review, problem = parse_review(line, where)
    if review is None:
        raise ValueError(problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    added = json.dumps(line, ensure_ascii=False) + "\n"
    if is_remote(path):  # an object cannot be appended to: written again, whole
        path.write_text("".join(f"{text}\n" for text in existing) + added, encoding="utf-8")
    else:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(added)
    return where
