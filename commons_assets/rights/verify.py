"""Re-verification, from the recorded evidence alone, that a record headed for the release may
go there: the blocking check runs this over every admitted record, so a bug in the decision code,
a hand-edited file or a takedown filed after the audit cannot slip a forbidden record through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from commons_assets.rights.audit import ADMITTED, CONSENTED_TIER, Takedown, takedown_hits

ADMISSIBLE_CLASSES = ("public-domain", "permissive", "share-alike")
FORBIDDING_VERDICTS = ("disallowed", "crawl disallowed", "reserved", "unreachable", "matched")


def problems(row: dict[str, Any], takedowns: Iterable[Takedown]) -> list[str]:
    """Why this admitted row must not be published (empty when it may)."""
    found: list[str] = []
    if row.get("decision") not in ADMITTED:
        found.append(f"decision is {row.get('decision')}")
    for entry in row.get("evidence") or []:
        verdict = (entry.get("verdict") or "").lower()
        channel = entry.get("channel") or ""
        if channel.startswith("takedown:") or verdict.startswith(FORBIDDING_VERDICTS):
            found.append(f"evidence {channel}={entry.get('raw')!r} says {entry.get('verdict')}")
        if channel == "bluesky:user-intents" and (
            "synthetic=false" in verdict or "bulk=false" in verdict
        ):
            found.append(f"author intents refuse: {entry.get('verdict')}")
    if row.get("tier") != CONSENTED_TIER and row.get("licence_class") not in ADMISSIBLE_CLASSES:
        found.append(f"licence class {row.get('licence_class')} is not admissible")
    for hit in takedown_hits(row, takedowns):
        found.append(f"takedown {hit.match}={hit.value} ({hit.source})")
    return found
