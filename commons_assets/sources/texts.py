"""Text collections: a folder of JSON Lines files, with collection-wide defaults in
`collection.json` (DESIGN.md §3)."""

from __future__ import annotations

import json
from typing import Any

from upath import UPath

from commons_assets import __version__
from commons_assets.records import PartitionRead, record_id, sha256_hex, steps
from commons_assets.sources.jsonl import jsonl_objects, string_field, too_large
from commons_assets.sources.layout import within
from commons_assets.sources.limits import DEFAULT_LIMITS, SourceLimits

SOURCE_KIND = "texts"
COLLECTION_FILE = "collection.json"
COLLECTION_DEFAULTS = ("licence", "source_url", "publisher", "language", "author")


def read_collection_defaults(folder: UPath, result: PartitionRead, root: UPath) -> dict[str, Any]:
    """`collection.json` defaults, or {} (quarantined with a reason when unreadable)."""
    path = folder / COLLECTION_FILE
    if not path.exists():
        return {}
    source_file = path.relative_to(root).as_posix()
    if not within(path, root / "sources"):
        result.quarantine(source_file, "outside_data_root", "a link outside the data root")
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        result.quarantine(source_file, "invalid_collection_file", str(error), raw=path.read_bytes())
        return {}
    if not isinstance(value, dict):
        result.quarantine(source_file, "invalid_collection_file", "expected a JSON object")
        return {}
    return value


def read_text_collection(
    folder: UPath,
    partition: str,
    root: UPath,
    limits: SourceLimits = DEFAULT_LIMITS,
    result: PartitionRead | None = None,
) -> PartitionRead:
    """Read every `*.jsonl` file of one collection folder, in name order."""
    result = result if result is not None else PartitionRead(SOURCE_KIND, partition)
    defaults = read_collection_defaults(folder, result, root)
    reader_steps = steps(("read_texts", f"commons {__version__}"))
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.jsonl")):
        source_file = path.relative_to(root).as_posix()
        if not within(path, root / "sources"):
            result.quarantine(
                source_file,
                "outside_data_root",
                "a symbolic link to a file outside the data root: not read",
            )
            continue
        if too_large(path, source_file, result, limits):
            continue
        for line, obj in jsonl_objects(path, source_file, result, limits.max_line_bytes):
            source_id = string_field(obj.get("id"))
            text = obj.get("text")
            if source_id is None:
                result.quarantine(
                    source_file,
                    "missing_id",
                    "no usable `id`",
                    line=line,
                    raw=json.dumps(obj, ensure_ascii=False),
                )
                continue
            if not isinstance(text, str) or not text.strip():
                result.quarantine(
                    source_file,
                    "missing_text",
                    "no non-empty `text`",
                    line=line,
                    source_id=source_id,
                    raw=json.dumps(obj, ensure_ascii=False),
                )
                continue
            where = f"{source_file}:{line}"
            if source_id in seen:
                result.quarantine(
                    source_file,
                    "duplicate_id",
                    f"`id` already used at {seen[source_id]}",
                    line=line,
                    source_id=source_id,
                    raw=text,
                )
                continue
            seen[source_id] = where
            content_sha = sha256_hex(text)
            licence = string_field(obj.get("licence", obj.get("license")))
            result.keep(
                {
                    "id": record_id(SOURCE_KIND, f"{partition}/{source_id}", content_sha),
                    "source_id": source_id,
                    "source_uri": string_field(obj.get("url"))
                    or string_field(defaults.get("source_url"))
                    or where,
                    "record_role": "document",
                    "title": string_field(obj.get("title")),
                    "text": text,
                    "language": string_field(obj.get("language"))
                    or string_field(defaults.get("language")),
                    "date": string_field(obj.get("date")),
                    "licence_raw": licence or string_field(defaults.get("licence")),
                    "attribution": string_field(obj.get("author"))
                    or string_field(defaults.get("author"))
                    or string_field(defaults.get("publisher")),
                    "consent": [],
                    "sha256": content_sha,
                    "provenance": {"source_file": source_file, "line": line, "steps": reader_steps},
                }
            )
    if not any(folder.glob("*.jsonl")):
        result.quarantine(
            folder.relative_to(root).as_posix(), "no_jsonl_files", "the folder has no *.jsonl file"
        )
    return result
