"""WARC files to records: pages, plus the site files (robots.txt, ai.txt, tdmrep.json) that the
rights audit needs, with their HTTP headers kept.

warcio reads the records. It stops at the first record it cannot parse, so this reader resumes
after a bad region at the next gzip member (compressed files) or the next `WARC/1.` line (plain
files), quarantines the unreadable bytes once, and goes on: one broken record never costs the rest.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zlib
from importlib.metadata import version
from typing import IO, Any
from urllib.parse import urlsplit

from upath import UPath
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from commons_assets import __version__
from commons_assets.records import (
    PartitionRead,
    Record,
    Signal,
    excerpt,
    record_id,
    sha256_hex,
    steps,
)
from commons_assets.sources.decoding import decode_body
from commons_assets.sources.jsonl import too_large
from commons_assets.sources.limits import DEFAULT_LIMITS, SourceLimits

SOURCE_KIND = "archives"
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Site-level files a crawler fetches next to the pages; the rights audit reads them per site.
SITE_FILES = {
    "/robots.txt": "robots.txt",
    "/ai.txt": "ai.txt",
    "/.well-known/tdmrep.json": "tdmrep",
}
# Response headers that carry consent signals (aipref attach draft, TDMRep, Cloudflare, robots).
SIGNAL_HEADERS = (
    "content-usage",
    "tdm-reservation",
    "tdm-policy",
    "content-signal",
    "x-robots-tag",
)
GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_LINE = b"\nWARC/1."
_SCAN_CHUNK = 1 << 20
READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError, IndexError, KeyError)


class _WholeFileGzip(Exception):
    """The file is one gzip stream rather than one gzip member per record."""


def read_warc(
    path: UPath,
    partition: str,
    source_file: str,
    limits: SourceLimits = DEFAULT_LIMITS,
    result: PartitionRead | None = None,
) -> PartitionRead:
    """Read one WARC file (gzip or plain) into a PartitionRead.

    Offsets in provenance are byte offsets of the record in the file as stored. A file gzipped
    as one stream (allowed, but not seekable per record) is read through a decompressed copy,
    and its offsets count decompressed bytes: the read step's version says so.
    """
    result = result if result is not None else PartitionRead(SOURCE_KIND, partition)
    if path.stat().st_size > limits.max_file_bytes:
        too_large(path, source_file, result, limits)
        return result
    with path.open("rb") as stream:
        compressed = stream.read(3) == GZIP_MAGIC
        try:
            return _read_stream(
                stream, partition, source_file, compressed, "", limits.max_record_bytes, result
            )
        except _WholeFileGzip:
            # warcio notices after the first record: read the file again, from the start.
            result.restart()
    with tempfile.TemporaryFile() as plain:
        if damage := _gunzip(path, plain):
            # What was decompressed before the damage is still read below.
            result.quarantine(source_file, "warc_truncated", damage)
        return _read_stream(
            plain,
            partition,
            source_file,
            False,
            "; offsets in decompressed bytes",
            limits.max_record_bytes,
            result,
        )


def _gunzip(path: UPath, target: IO[bytes]) -> str | None:
    """Decompress every gzip member of `path` into `target`, keeping all output up to any damage.
    Returns a description of the damage, or None."""
    inflater = zlib.decompressobj(31)
    inside_member = False
    with path.open("rb") as source:
        while chunk := source.read(_SCAN_CHUNK):
            while chunk:
                inside_member = True
                try:
                    target.write(inflater.decompress(chunk))
                except zlib.error as error:
                    return f"gzip data damaged near compressed offset {source.tell()}: {error}"
                if not inflater.eof:
                    break
                target.write(inflater.flush())
                chunk = inflater.unused_data
                inflater = zlib.decompressobj(31)
                inside_member = False
    if inside_member:
        target.write(inflater.flush())
        return "gzip stream ends before its end-of-stream marker"
    return None


def _read_stream(
    stream: IO[bytes],
    partition: str,
    source_file: str,
    compressed: bool,
    offset_note: str,
    max_record_bytes: int,
    result: PartitionRead | None = None,
) -> PartitionRead:
    result = result or PartitionRead(SOURCE_KIND, partition)
    reader_steps = steps(
        ("read_warc", f"commons {__version__}; warcio {version('warcio')}{offset_note}")
    )
    seen_ids: set[str] = set()
    size = stream.seek(0, os.SEEK_END)
    position = 0
    bad_region_start: int | None = None
    while position < size:
        stream.seek(position)
        records_read, stopped_at, error = _read_from(
            stream, position, result, source_file, reader_steps, seen_ids, max_record_bytes
        )
        if error is None:
            if stream.seek(stopped_at) < size and stream.read(_SCAN_CHUNK).strip(b"\r\n\x00"):
                # warcio ends quietly at a gzip member cut short: the rest would vanish unseen.
                error = EOFError("the file ends inside a record")
            else:
                break
        elif "non-chunked gzip" in str(error):
            raise _WholeFileGzip from error
        region_start = _skip_blank(stream, stopped_at)
        if records_read or bad_region_start is None:
            bad_region_start = region_start
        resume = _next_sync_point(stream, region_start + 1, compressed)
        end = resume if resume is not None else size
        # One quarantine entry per contiguous unreadable region, however many resyncs it took.
        _quarantine_region(
            result, source_file, bad_region_start, end, error, stream, compressed, resume is None
        )
        if resume is None:
            break
        position = resume
    return result


def _skip_blank(stream: IO[bytes], offset: int) -> int:
    """The first offset at or after `offset` that is not record-separating CR/LF."""
    stream.seek(offset)
    lead = stream.read(64)
    return offset + len(lead) - len(lead.lstrip(b"\r\n"))


def _read_from(
    stream: IO[bytes],
    start: int,
    result: PartitionRead,
    source_file: str,
    reader_steps: list[dict[str, str]],
    seen_ids: set[str],
    max_record_bytes: int,
) -> tuple[int, int, BaseException | None]:
    """Read records from `start` until the end or the first error.
    Returns (records read, offset where reading stopped, the error or None)."""
    records_read = 0
    end_of_last = start
    iterator = ArchiveIterator(stream)
    try:
        for record in iterator:
            parsed = _parse_record(record, result, source_file, max_record_bytes)
            # warcio's offset calls read the record to its end: only ask once the body is read.
            offset = iterator.get_record_offset()  # counted from the file's start
            length = iterator.get_record_length()
            end_of_last = offset + length
            records_read += 1
            if parsed is None:
                continue
            if parsed["id"] in seen_ids:
                result.not_carry(
                    "identical capture repeated in this file",
                    parsed["source_id"],
                    f"offset {offset}",
                )
                continue
            seen_ids.add(parsed["id"])
            parsed["provenance"] = {
                "source_file": source_file,
                "offset": offset,
                "length": length,
                "steps": reader_steps,
            }
            result.keep(parsed)
    except READ_ERRORS as error:
        return records_read, end_of_last, error
    return records_read, end_of_last, None


def _parse_record(
    record: Any, result: PartitionRead, source_file: str, max_record_bytes: int
) -> Record | None:
    """A record's fields, or None when the record is not carried (counted in `result`)."""
    if record.format != "warc":
        # warcio falls back to the legacy ARC format for any line that is not a WARC header.
        raise ArchiveLoadFailed(f"not a WARC record (parsed as {record.format})")
    rec_type = record.rec_type
    if not rec_type:
        raise ArchiveLoadFailed("record has no WARC-Type header")
    if record.rec_headers.get_header("Content-Length") is None:
        # Mandatory (WARC 1.1 §5.3); without it warcio would read the following records as body.
        raise ArchiveLoadFailed("record has no Content-Length header")
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    if rec_type not in ("response", "resource"):
        result.not_carry(f"{rec_type} record", uri or None)
        return None
    status: int | None = None
    headers: list[dict[str, str]] = []
    if rec_type == "response":
        if record.http_headers is None:
            result.not_carry("non-HTTP response record", uri or None)
            return None
        status = int(record.http_headers.get_statuscode() or 0) or None
        headers = [{"name": name, "value": value} for name, value in record.http_headers.headers]
        content_type = record.http_headers.get_header("Content-Type")
    else:
        content_type = record.rec_headers.get_header("Content-Type")
    body = record.content_stream().read(max_record_bytes + 1)
    if len(body) > max_record_bytes:
        # The rest of the body is skipped by warcio, never read into memory.
        result.quarantine(
            source_file,
            "record_too_large",
            f"{uri}: body over the limit of {max_record_bytes} bytes (max_record_bytes)",
            source_id=uri or None,
            raw=body[:400],
        )
        return None
    missing = getattr(record.raw_stream, "limit", 0)
    if missing:
        # warcio stops quietly at the end of the file: a short body means a damaged file, and a
        # too-large Content-Length may have swallowed the records after it (resync finds them).
        raise EOFError(f"record body ends {missing} bytes before its Content-Length")

    role = SITE_FILES.get(urlsplit(uri).path)
    mime = (content_type or "").split(";")[0].strip().lower()
    if role is None:
        if mime not in HTML_TYPES:
            result.not_carry(f"non-HTML payload ({mime or 'no content type'})", uri or None)
            return None
        if status is not None and not 200 <= status < 300:
            result.not_carry(f"HTTP status {status // 100}xx page", uri or None)
            return None
        role = "page"

    text, encoding = decode_body(body, content_type)
    content_sha = sha256_hex(body)
    signals: list[Signal] = [
        {
            "channel": f"http:{h['name'].lower()}",
            "raw": h["value"],
            "verdict": None,
            "location": uri,
        }
        for h in headers
        if h["name"].lower() in SIGNAL_HEADERS
    ]
    return {
        "id": record_id(SOURCE_KIND, uri, content_sha),
        "source_id": uri,
        "source_uri": uri,
        "record_role": role,
        "html": text if role == "page" else None,
        "text": text if role != "page" else None,
        "date": record.rec_headers.get_header("WARC-Date"),
        "fetched_at": record.rec_headers.get_header("WARC-Date"),
        "consent": signals,
        "sha256": content_sha,
        "content_type": content_type,
        "encoding": encoding,
        "http_status": status,
        "http_headers": headers,
    }


def _next_sync_point(stream: IO[bytes], start: int, compressed: bool) -> int | None:
    """Offset of the next place a record may begin, or None at the end of the file."""
    marker = GZIP_MAGIC if compressed else WARC_LINE
    stream.seek(start)
    position = start
    tail = b""
    while chunk := stream.read(_SCAN_CHUNK):
        window = tail + chunk
        found = window.find(marker)
        if found >= 0:
            at = position - len(tail) + found
            return at if compressed else at + 1
        tail = window[-(len(marker) - 1) :]
        position += len(chunk)
    return None


def _quarantine_region(
    result: PartitionRead,
    source_file: str,
    start: int,
    end: int,
    error: BaseException,
    stream: IO[bytes],
    compressed: bool,
    reaches_end: bool,
) -> None:
    stream.seek(start)
    raw = stream.read(min(end - start, 4096))
    # A record that starts well but runs into the end of the file was cut short.
    cut_short = reaches_end and raw.startswith((GZIP_MAGIC, b"WARC/"))
    if compressed and raw[:3] == GZIP_MAGIC:  # show the damaged record as text, not gzip bytes
        with contextlib.suppress(zlib.error):
            raw = zlib.decompressobj(31).decompress(raw, 400)
    truncated = cut_short or isinstance(error, EOFError | zlib.error)
    reason = "warc_truncated" if truncated else "warc_unreadable"
    detail = f"{type(error).__name__}: {error}; skipped bytes {start}-{end}"
    if result.quarantined and result.quarantined[-1]["offset"] == start:
        result.quarantined[-1] |= {"detail": detail, "excerpt": excerpt(raw)}
        return
    result.quarantine(source_file, reason, detail, offset=start, raw=raw)
