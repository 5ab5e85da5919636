"""W3C TDM Reservation Protocol (CG final report): `/.well-known/tdmrep.json`, the
`tdm-reservation` / `tdm-policy` HTTP headers and HTML meta, with TDMRep's own precedence:
file < header < HTML meta (< EPUB/PDF), a later source supersedes an earlier one, and an
absent field never resets a value. Values other than the integers 0 and 1 are a protocol error
and count as unset (2021-09-07 CG minutes)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from commons_assets.rights.robots import pattern_matches

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TdmValue:
    reservation: int | None  # 1 reserved, 0 not reserved, None unset
    policy: str | None
    source: str  # channel that set the reservation last
    error: str | None = None


def reservation_value(raw: object) -> int | None:
    """0 or 1 (as integer, or the strings "0"/"1" of headers and meta), else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int) and raw in (0, 1):
        return raw
    if isinstance(raw, str) and raw.strip() in ("0", "1"):
        return int(raw.strip())
    return None


def rule_for(tdmrep_json: str, path: str) -> tuple[dict | None, str | None]:
    """The first rule (array order) whose `location` matches `path` ("the most specific match is
    the first in sequence"). Returns (rule, error); a non-array body is a protocol error."""
    try:
        rules = json.loads(tdmrep_json)
    except json.JSONDecodeError as error:
        return None, f"tdmrep.json is not JSON: {error}"
    if not isinstance(rules, list):
        return None, "tdmrep.json is not an array (protocol error: unset)"
    matching = [
        rule
        for rule in rules
        if isinstance(rule, dict)
        and isinstance(rule.get("location"), str)
        and pattern_matches(rule["location"], path)
    ]
    if not matching:
        return None, None
    first = matching[0]
    if any(len(r["location"]) > len(first["location"]) for r in matching[1:]):
        log.warning("tdmrep.json: a later rule is more specific than the first match for %s", path)
    return first, None


def effective_reservation(
    file_rule: dict | None,
    header: tuple[str | None, str | None],
    meta: tuple[str | None, str | None],
) -> TdmValue:
    """Apply file < header < meta; each source's (reservation, policy)."""
    reservation: int | None = None
    policy: str | None = None
    source = "none"
    steps = [
        (
            "tdmrep.json",
            (file_rule or {}).get("tdm-reservation"),
            (file_rule or {}).get("tdm-policy"),
        ),
        ("http-header", *header),
        ("html-meta", *meta),
    ]
    for channel, raw_reservation, raw_policy in steps:
        value = reservation_value(raw_reservation)
        if value is not None:
            reservation, source = value, channel
        if isinstance(raw_policy, str) and raw_policy.strip():
            policy = raw_policy.strip()
    return TdmValue(reservation, policy if reservation != 0 else None, source)
