"""JSON Lines files read line by line: each bad line is quarantined, never the whole file."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from upath import UPath

from commons_assets.lake import is_remote
from commons_assets.records import PartitionRead
from commons_assets.sources.layout import within
from commons_assets.sources.limits import SourceLimits

# A line longer than this is quarantined unread (it is skipped in chunks, never held whole).
MAX_LINE_BYTES = 8 * 1024 * 1024
_SKIP_CHUNK = 1024 * 1024
# A \uD800-\uDFFF escape: a surrogate pair is fine, a lone one cannot be encoded as UTF-8.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class DuplicateKeys(ValueError):
    """An object names the same key twice with different values (RFC 8259 §4: names SHOULD be
    unique; parsers disagree on which value wins, so Commons takes neither)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value and value[key] != item:
            raise DuplicateKeys(f"key {key!r} given twice with different values")
        value[key] = item
    return value


def parse_line(line: str) -> Any:
    """One JSON value; raises ValueError (invalid JSON, a number too long to convert, duplicate
    keys that disagree) or RecursionError (nesting too deep)."""
    return json.loads(line, object_pairs_hook=_unique_keys)


def _lines(stream: IO[bytes], limit: int) -> Iterator[tuple[bytes, bool]]:
    """(line, whole) pairs; a line over `limit` bytes comes as its first `limit` bytes and
    whole=False, the rest skipped without being kept in memory."""
    while line := stream.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line, True
            continue
        while (rest := stream.readline(_SKIP_CHUNK)) and not rest.endswith(b"\n"):
            pass
        yield line[:limit], False


@dataclass(frozen=True)
class Line:
    """One non-blank line of a JSON Lines file: its value, or why it cannot be used."""

    number: int
    raw: bytes
    value: Any = None
    reason: str | None = None  # line_too_long, not_utf8, duplicate_key, invalid_json, …
    detail: str = ""


def read_lines(path: UPath, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """Every non-blank line of a file, parsed; no bad line raises (RFC 8259 §8.1: JSON
    exchanged between systems MUST be UTF-8)."""
    with path.open("rb") as opened:
        # fsspec's files read lines without a size limit: buffered here, the limit holds.
        stream = io.BufferedReader(cast(io.RawIOBase, opened)) if is_remote(path) else opened
        for number, (raw, whole) in enumerate(_lines(stream, max_line_bytes), start=1):
            if not whole:
                limit = f"longer than the limit of {max_line_bytes} bytes (max_line_bytes)"
                yield Line(number, raw, reason="line_too_long", detail=limit)
            elif raw.strip():
                yield _parsed(number, raw)


def _parsed(number: int, raw: bytes) -> Line:
    try:
        value = parse_line(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        return Line(number, raw, reason="not_utf8", detail=f"not UTF-8 ({error})")
    except DuplicateKeys as error:
        return Line(number, raw, reason="duplicate_key", detail=str(error))
    except (ValueError, RecursionError) as error:
        return Line(number, raw, reason="invalid_json", detail=f"not JSON ({error})")
    if _SURROGATE_ESCAPE.search(raw) and not _encodable(value):
        lone = "a lone surrogate escape (\\uD800-\\uDFFF) is not a character"
        return Line(number, raw, reason="invalid_unicode", detail=lone)
    return Line(number, raw, value)


def jsonl_objects(
    path: UPath, source_file: str, result: PartitionRead, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each good line; quarantine the rest with a reason.
    Blank lines are allowed and skipped."""
    for line in read_lines(path, max_line_bytes):
        if line.reason is not None:
            result.quarantine(source_file, line.reason, line.detail, line=line.number, raw=line.raw)
        elif not isinstance(line.value, dict):
            result.quarantine(
                source_file,
                "not_an_object",
                f"expected a JSON object, got {type(line.value).__name__}",
                line=line.number,
                raw=line.raw,
            )
        else:
            yield line.number, line.value


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def string_field(value: Any) -> str | None:
    """A field as text: strings stay, numbers become strings, empty and other types are None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def steward_lines(root: UPath, folder: Path) -> Iterator[tuple[str, Any, str | None]]:
    """(file:line, parsed value or None, why not) for each non-blank line of the `*.jsonl`
    files in a steward's folder under the data root (takedowns, reviews), in file order. The
    caller reports the unusable lines: a steward file's bad line is shown, never dropped."""
    for path in sorted((root / folder).glob("*.jsonl")) if (root / folder).is_dir() else []:
        relative = path.relative_to(root).as_posix()
        if not within(path, root):
            yield relative, None, f"{relative}: links outside the data root; not read"
            continue
        yield from json_lines(path, relative)


def json_lines(path: UPath, relative: str) -> Iterator[tuple[str, Any, str | None]]:
    """(file:line, parsed value or None, why not) for each non-blank line of one file."""
    for line in read_lines(path):
        where = f"{relative}:{line.number}"
        yield where, line.value, f"{where}: {line.detail}" if line.reason else None


def too_large(path: UPath, source_file: str, result: PartitionRead, limits: SourceLimits) -> bool:
    """Quarantine a source file over the per-file limit (it is not read); True if it was."""
    size = path.stat().st_size
    if size <= limits.max_file_bytes:
        return False
    result.quarantine(
        source_file,
        "file_too_large",
        f"{size} bytes > limit {limits.max_file_bytes} (max_file_bytes)",
    )
    return True
