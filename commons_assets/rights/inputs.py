"""What the audit reads besides the records and the site policies: takedown requests, and social
deletions (a deletion is a takedown, whichever day it arrived)."""

from __future__ import annotations

from pathlib import Path

from upath import UPath

from commons_assets.rights.audit import Takedown
from commons_assets.sources import layout
from commons_assets.sources.jsonl import json_lines, steward_lines
from commons_assets.sources.layout import within
from commons_assets.sources.social import DELETIONS_FILE

TAKEDOWN_FOLDER = Path("policy") / "takedowns"
TAKEDOWN_MATCHES = ("url", "id", "sha256", "did")
TAKEDOWN_SCOPES = ("work", "record")


def load_takedowns(root: UPath) -> tuple[list[Takedown], list[str]]:
    """Requests from `policy/takedowns/*.jsonl`, and a description of each unusable line."""
    requests: list[Takedown] = []
    problems: list[str] = []
    for where, obj, error in steward_lines(root, TAKEDOWN_FOLDER):
        if error is not None:
            problems.append(error)
            continue
        if not isinstance(obj, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        match, value = obj.get("match"), obj.get("value")
        scope = obj.get("scope", "work")
        if match not in TAKEDOWN_MATCHES or not isinstance(value, str) or not value:
            problems.append(f"{where}: needs match in {TAKEDOWN_MATCHES} and a value")
            continue
        if scope not in TAKEDOWN_SCOPES:
            problems.append(f"{where}: scope must be one of {TAKEDOWN_SCOPES}")
            continue
        requests.append(
            Takedown(
                match,
                value,
                str(obj.get("reason", "")),
                str(obj.get("requested_at", "")),
                scope,
                where,
            )
        )
    return requests, problems


def social_deletions(root: UPath) -> list[Takedown]:
    """Every deletion event of every day, as takedowns (Bluesky: archives respect deletions)."""
    deletions: list[Takedown] = []
    sources = root / "sources"
    for day, folder in layout.social_days(sources).items():
        path = folder / DELETIONS_FILE
        if not path.exists() or not within(path, sources):
            continue  # a link out of the data root is reported by the social source asset
        relative = f"sources/social/{day}/{DELETIONS_FILE}"
        for where, obj, _ in json_lines(path, relative):
            if not isinstance(obj, dict):
                continue  # the social source asset quarantines it
            if isinstance(obj.get("uri"), str):
                deletions.append(
                    Takedown("url", obj["uri"], "post deleted by its author", day, "record", where)
                )
            elif isinstance(obj.get("did"), str):
                deletions.append(
                    Takedown("did", obj["did"], "account deleted", day, "record", where)
                )
    return deletions
