"""One day of social posts (Bluesky shape): `posts.jsonl`, the authors' user-intent declarations
in `intents.jsonl`, and `deletions.jsonl` (DESIGN.md §3).

A post its author deleted, or whose account was deleted, is not carried forward: its text is
not kept anywhere, only counted (Bluesky proposal 0008: archives respect deletions by default).
Each remaining post carries its author's declaration as raw consent evidence; the rights audit
decides what it means.
"""

from __future__ import annotations

import json
from typing import Any

from upath import UPath

from commons_assets import __version__
from commons_assets.records import PartitionRead, Signal, record_id, sha256_hex, steps
from commons_assets.sources import layout
from commons_assets.sources.jsonl import jsonl_objects, string_field, too_large
from commons_assets.sources.layout import within
from commons_assets.sources.limits import DEFAULT_LIMITS, SourceLimits

SOURCE_KIND = "social"
POSTS_FILE = "posts.jsonl"
INTENTS_FILE = "intents.jsonl"
DELETIONS_FILE = "deletions.jsonl"
# bluesky-social/proposals 0008-user-intents: the NSID is a placeholder; a public demo writes the
# `.demo.` variant, recognised as an alias (CONSENT_AND_LICENCES.md, parsers: Bluesky) [policy].
INTENT_TYPES = ("org.user-intents.declaration", "org.user-intents.demo.declaration")


def _declaration_time(record: dict[str, Any]) -> str:
    return string_field(record.get("updatedAt")) or ""


def _outside(result: PartitionRead, path: UPath, root: UPath) -> None:
    result.quarantine(
        path.relative_to(root).as_posix(),
        "outside_data_root",
        "a symbolic link to a file outside the data root: not read",
    )


def read_intents(day: UPath, root: UPath, result: PartitionRead) -> dict[str, dict[str, Any]]:
    """The newest declaration per DID as of the end of `day`.

    Intents are account-wide and stay in force until replaced, so the declarations of earlier
    day folders count too. Only this day's malformed lines are quarantined here; earlier days
    report their own.
    """
    latest: dict[str, dict[str, Any]] = {}
    # Only day folders count (the layout's `YYYY-MM-DD`): an intents file in any other folder
    # is no author's declaration and must never override one.
    earlier_or_same = [
        folder / INTENTS_FILE
        for name, folder in layout.social_days(root / "sources").items()
        if name <= day.name and (folder / INTENTS_FILE).exists()
    ]
    for path in earlier_or_same:
        if not within(path, root / "sources"):
            if path.parent == day:
                _outside(result, path, root)
            continue
        own_day = path.parent == day
        sink = result if own_day else PartitionRead(SOURCE_KIND, path.parent.name)
        _read_intents_file(path, root, sink, latest)
    return latest


def _read_intents_file(
    path: UPath, root: UPath, result: PartitionRead, latest: dict[str, dict[str, Any]]
) -> None:
    source_file = path.relative_to(root).as_posix()
    for line, obj in jsonl_objects(path, source_file, result):
        did = string_field(obj.get("did"))
        record = obj.get("record")
        if did is None or not isinstance(record, dict):
            result.quarantine(
                source_file,
                "invalid_intent",
                "needs `did` and an object `record`",
                line=line,
                raw=json.dumps(obj),
            )
            continue
        if record.get("$type") not in INTENT_TYPES:
            result.quarantine(
                source_file,
                "invalid_intent",
                f"unknown $type {record.get('$type')!r}",
                line=line,
                source_id=did,
                raw=json.dumps(obj),
            )
            continue
        entry = {"record": record, "line": line, "source_file": source_file, "cid": obj.get("cid")}
        if did not in latest or _declaration_time(record) >= _declaration_time(
            latest[did]["record"]
        ):
            latest[did] = entry


def read_deletions(day: UPath, root: UPath, result: PartitionRead) -> tuple[set[str], set[str]]:
    """(deleted post URIs, deleted account DIDs)."""
    path = day / DELETIONS_FILE
    uris: set[str] = set()
    dids: set[str] = set()
    if not path.exists():
        return uris, dids
    if not within(path, root / "sources"):
        _outside(result, path, root)
        return uris, dids
    source_file = path.relative_to(root).as_posix()
    for line, obj in jsonl_objects(path, source_file, result):
        if uri := string_field(obj.get("uri")):
            uris.add(uri)
        elif did := string_field(obj.get("did")):
            dids.add(did)
        else:
            result.quarantine(
                source_file,
                "invalid_deletion",
                "needs `uri` or `did`",
                line=line,
                raw=json.dumps(obj),
            )
    return uris, dids


def read_social_day(
    day: UPath,
    partition: str,
    root: UPath,
    limits: SourceLimits = DEFAULT_LIMITS,
    result: PartitionRead | None = None,
) -> PartitionRead:
    """Read one day folder. A day without a folder is a day without posts (zero rows)."""
    result = result if result is not None else PartitionRead(SOURCE_KIND, partition)
    posts_path = day / POSTS_FILE
    if not posts_path.exists():
        return result
    if not within(posts_path, root / "sources"):
        _outside(result, posts_path, root)
        return result
    intents = read_intents(day, root, result)
    deleted_uris, deleted_dids = read_deletions(day, root, result)
    source_file = posts_path.relative_to(root).as_posix()
    reader_steps = steps(("read_social", f"commons {__version__}"))
    seen: set[str] = set()
    if too_large(posts_path, source_file, result, limits):
        return result
    for line, obj in jsonl_objects(posts_path, source_file, result, limits.max_line_bytes):
        uri = string_field(obj.get("uri"))
        did = string_field(obj.get("did"))
        text = obj.get("text")
        if uri is None or did is None:
            result.quarantine(
                source_file,
                "missing_field",
                "needs `uri` and `did`",
                line=line,
                raw=json.dumps(obj),
            )
            continue
        if uri in deleted_uris:
            result.not_carry("post deleted by its author", uri, f"line {line}")
            continue
        if did in deleted_dids:
            result.not_carry("account deleted", uri, f"line {line}")
            continue
        if not isinstance(text, str) or not text.strip():
            result.quarantine(
                source_file,
                "missing_text",
                "no non-empty `text`",
                line=line,
                source_id=uri,
                raw=json.dumps(obj),
            )
            continue
        if uri in seen:
            result.not_carry("post repeated in this file", uri, f"line {line}")
            continue
        seen.add(uri)
        langs = obj.get("langs")
        language = (
            langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
        )
        consent: list[Signal] = []
        if did in intents:
            declared = intents[did]
            consent.append(
                {
                    "channel": "bluesky:user-intents",
                    "raw": json.dumps(declared["record"], sort_keys=True),
                    "verdict": None,
                    "location": f"{declared['source_file']}:{declared['line']}",
                }
            )
        content_sha = sha256_hex(text)
        result.keep(
            {
                "id": record_id(SOURCE_KIND, uri, content_sha),
                "source_id": uri,
                "source_uri": uri,
                "record_role": "post",
                "text": text,
                "language": language,
                "date": string_field(obj.get("created_at")),
                "attribution": did,
                "consent": consent,
                "sha256": content_sha,
                "provenance": {"source_file": source_file, "line": line, "steps": reader_steps},
            }
        )
    return result
