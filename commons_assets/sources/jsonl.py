"""JSON Lines files read line by line: each bad line is quarantined, never the whole file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from commons_assets.records import PartitionRead


def jsonl_objects(
    path: Path, source_file: str, result: PartitionRead
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each good line; quarantine the rest with a reason.
    Blank lines are allowed and skipped."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                # RFC 8259 §8.1: JSON exchanged between systems MUST be UTF-8.
                result.quarantine(source_file, "not_utf8", str(error), line=number, raw=raw)
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                result.quarantine(source_file, "invalid_json", str(error), line=number, raw=line)
                continue
            if not isinstance(value, dict):
                result.quarantine(
                    source_file,
                    "not_an_object",
                    f"expected a JSON object, got {type(value).__name__}",
                    line=number,
                    raw=line,
                )
                continue
            yield number, value


def string_field(value: Any) -> str | None:
    """A field as text: strings stay, numbers become strings, empty and other types are None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def steward_lines(root: Path, folder: Path) -> Iterator[tuple[str, Any, str | None]]:
    """(file:line, parsed value or None, why not) for each non-blank line of the `*.jsonl`
    files in a steward's folder under the data root (takedowns, reviews), in file order. The
    caller reports the unusable lines: a steward file's bad line is shown, never dropped."""
    for path in sorted((root / folder).glob("*.jsonl")) if (root / folder).is_dir() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.relative_to(root).as_posix()}:{number}"
            try:
                yield where, json.loads(line), None
            except ValueError as error:  # JSONDecodeError, or a number too long to convert
                yield where, None, f"{where}: not JSON ({error})"
