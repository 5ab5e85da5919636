"""Bluesky user intents for data reuse (bluesky-social/proposals 0008): one account-wide
`org.user-intents.declaration` record; per intent `allow` true/false, missing (or null) means
undefined. The `.demo.declaration` NSID is accepted as an alias [policy]."""

from __future__ import annotations

import json
from dataclasses import dataclass

DECLARATION_TYPES = ("org.user-intents.declaration", "org.user-intents.demo.declaration")
SYNTHETIC = "syntheticContentGeneration"
BULK = "bulkDataset"


@dataclass(frozen=True)
class Intents:
    synthetic: bool | None  # True allow, False disallow, None undefined
    bulk: bool | None
    updated_at: str | None
    valid: bool = True


def _allow(record: dict, intent: str) -> bool | None:
    value = record.get(intent)
    if isinstance(value, dict) and isinstance(value.get("allow"), bool):
        return value["allow"]
    return None


def parse_declaration(raw: str | dict) -> Intents:
    try:
        record = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):  # not a declaration: nothing is allowed by it
        return Intents(None, None, None, valid=False)
    if not isinstance(record, dict) or record.get("$type") not in DECLARATION_TYPES:
        return Intents(None, None, None, valid=False)
    updated = record.get("updatedAt") if isinstance(record.get("updatedAt"), str) else None
    return Intents(_allow(record, SYNTHETIC), _allow(record, BULK), updated)
