"""The common record schema (DESIGN.md §4) and the quarantine that keeps every bad input visible.

Every source reader fills a `PartitionRead`: records that go on, records quarantined with a
reason, and records deliberately not carried forward (a WARC request record, a post its author
deleted) counted by reason. Nothing leaves a partition without a trace.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, cast

import polars as pl
from polars._typing import PolarsDataType  # Polars' own alias: a type class or instance

if TYPE_CHECKING:
    from commons_assets.batches import TableSpool

# A table's columns and their Polars types (a type's class, pl.String, or an instance, pl.List(…)).
Schema = dict[str, PolarsDataType]


def conformed(frame: pl.DataFrame, schema: Schema | pl.Schema) -> pl.DataFrame:
    """`frame` with exactly the columns of `schema`, in its order and types (nulls where the
    frame has none)."""
    return frame.select(
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    )


SIGNAL = pl.Struct(
    {"channel": pl.String, "raw": pl.String, "verdict": pl.String, "location": pl.String}
)
STEP = pl.Struct({"name": pl.String, "version": pl.String})
PROVENANCE = pl.Struct(
    {
        "source_file": pl.String,
        "offset": pl.Int64,
        "length": pl.Int64,
        "line": pl.Int64,
        "steps": pl.List(STEP),
        # Characters [start, end) of the source text that the record's text comes from, when
        # the clean stage removed a distributor's wrapper around it (clean/wrappers.py).
        "text_span": pl.Struct({"start": pl.Int64, "end": pl.Int64}),
    }
)
HEADER = pl.Struct({"name": pl.String, "value": pl.String})
IMAGE = pl.Struct(
    {
        "file": pl.String,
        "url": pl.String,
        "width": pl.Int64,
        "height": pl.Int64,
        "format": pl.String,
        "mode": pl.String,
        "bytes": pl.Int64,
    }
)

# One schema for every source kind; fields a kind does not have stay null. The governance fields
# (`licence`, `licence_class`, `decision`) are filled by the rights audit, not by readers.
RECORD_SCHEMA: Schema = {
    "id": pl.String,
    "source_kind": pl.String,
    "source_partition": pl.String,
    "source_id": pl.String,
    "source_uri": pl.String,
    "record_role": pl.String,
    "title": pl.String,
    "text": pl.String,
    "caption": pl.String,
    "html": pl.String,
    "image": IMAGE,
    "language": pl.String,
    "date": pl.String,
    # When the crawler fetched the record (WARC-Date): the site files current then govern it,
    # whatever publication date its markup states (`date`). Null for kinds without a capture.
    "fetched_at": pl.String,
    "licence": pl.String,
    "licence_raw": pl.String,
    "licence_class": pl.String,
    "attribution": pl.String,
    "consent": pl.List(SIGNAL),
    "decision": pl.String,
    "sha256": pl.String,
    "content_type": pl.String,
    "encoding": pl.String,
    "http_status": pl.Int32,
    "http_headers": pl.List(HEADER),
    "provenance": PROVENANCE,
}


class Signal(TypedDict):
    """A consent or licence signal: where it was found and what it says."""

    channel: str
    raw: str | None
    verdict: str | None
    location: str | None


class Record(TypedDict, total=False):
    """A record as readers build it (RECORD_SCHEMA's columns; a test keeps the two equal).
    Fields a kind does not have are left out and become null; `source_kind` and
    `source_partition` are filled by `PartitionRead.keep`."""

    id: str
    source_kind: str
    source_partition: str
    source_id: str
    source_uri: str | None
    record_role: str
    title: str | None
    text: str | None
    caption: str | None
    html: str | None
    image: dict[str, Any] | None
    language: str | None
    date: str | None
    fetched_at: str | None
    licence: str | None
    licence_raw: str | None
    licence_class: str | None
    attribution: str | None
    consent: list[Signal]
    decision: str | None
    sha256: str | None
    content_type: str | None
    encoding: str | None
    http_status: int | None
    http_headers: list[dict[str, str]]
    provenance: dict[str, Any]


def rows_of(frame: pl.DataFrame) -> list[Record]:
    """A table of RECORD_SCHEMA (or a wider one) as typed rows."""
    return cast(list[Record], frame.to_dicts())


# Records a reader deliberately did not carry forward (a request record, a deleted post).
NOT_CARRIED_SCHEMA: Schema = {
    "source_kind": pl.String,
    "source_partition": pl.String,
    "source_id": pl.String,
    "location": pl.String,
    "reason": pl.String,
}

QUARANTINE_SCHEMA: Schema = {
    "source_kind": pl.String,
    "source_partition": pl.String,
    "source_file": pl.String,
    "location": pl.String,
    "offset": pl.Int64,
    "line": pl.Int64,
    "reason": pl.String,
    "detail": pl.String,
    "source_id": pl.String,
    "excerpt": pl.String,
}

EXCERPT_CHARS = 200


def sha256_hex(data: bytes | str) -> str:
    """Hex SHA-256 of bytes, or of a string's UTF-8 encoding."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def record_id(source_kind: str, source_id: str, content_sha256: str) -> str:
    """Stable, content-addressed id: the same source item with the same content gets the same id
    on every run; a changed content gets a new one. The source identity is part of the key so two
    sources carrying the same bytes stay two records until dedupe decides."""
    return sha256_hex(f"{source_kind}\x00{source_id}\x00{content_sha256}")[:32]


def steps(*named_versions: tuple[str, str]) -> list[dict[str, str]]:
    """Processing steps for `provenance.steps`, in the order they ran."""
    return [{"name": name, "version": version} for name, version in named_versions]


def excerpt(raw: bytes | str | None) -> str | None:
    """A short, printable piece of a bad input, so the UI can show what was wrong."""
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    return raw[:EXCERPT_CHARS]


@dataclass
class PartitionRead:
    """What a reader made of one partition. With a `spool` (the source step's), the records go
    there batch by batch and are not held here: memory stays bounded whatever the file's size."""

    source_kind: str
    source_partition: str
    records: list[Record] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    not_carried: Counter[str] = field(default_factory=Counter)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # not carried, by source id
    spool: TableSpool | None = None
    kept: int = 0

    def keep(self, record: Record) -> None:
        unknown = set(record) - set(RECORD_SCHEMA)
        if unknown:  # a misspelt field would otherwise vanish when the frame is built
            raise KeyError(f"fields not in the record schema: {sorted(unknown)}")
        full: Record = {
            "source_kind": self.source_kind,
            "source_partition": self.source_partition,
            **record,
        }
        self.kept += 1
        if self.spool is not None:
            self.spool.add(full)
        else:
            self.records.append(full)

    def restart(self) -> None:
        """Forget everything read so far (a reader that must read the file another way)."""
        self.records, self.quarantined, self.skipped = [], [], []
        self.not_carried = Counter()
        self.kept = 0
        if self.spool is not None:
            self.spool.restart()

    def quarantine(
        self,
        source_file: str,
        reason: str,
        detail: str = "",
        *,
        offset: int | None = None,
        line: int | None = None,
        source_id: str | None = None,
        raw: bytes | str | None = None,
    ) -> None:
        where = [f"offset {offset}" if offset is not None else "", f"line {line}" if line else ""]
        self.quarantined.append(
            {
                "source_kind": self.source_kind,
                "source_partition": self.source_partition,
                "source_file": source_file,
                "location": " ".join(part for part in where if part) or "file",
                "offset": offset,
                "line": line,
                "reason": reason,
                "detail": detail[:1000],
                "source_id": source_id,
                "excerpt": excerpt(raw),
            }
        )

    def not_carry(self, reason: str, source_id: str | None = None, where: str = "") -> None:
        """Count a record that is deliberately not carried forward (and say why); one named by
        its source id is listed too, so that `commons trace` finds it."""
        self.not_carried[reason] += 1
        if source_id:
            self.skipped.append(
                {
                    "source_kind": self.source_kind,
                    "source_partition": self.source_partition,
                    "source_id": source_id,
                    "location": where,
                    "reason": reason,
                }
            )

    def outcomes(self) -> list[tuple[str, str, int]]:
        """(outcome, reason, count) rows: kept, quarantined by reason, not carried by reason."""
        rows = [("kept", "", self.kept)]
        by_reason = Counter(q["reason"] for q in self.quarantined)
        rows += [("quarantined", reason, n) for reason, n in sorted(by_reason.items())]
        rows += [("not carried", reason, n) for reason, n in sorted(self.not_carried.items())]
        return rows

    def records_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.records, schema=RECORD_SCHEMA)

    def quarantine_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.quarantined, schema=QUARANTINE_SCHEMA)

    def not_carried_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.skipped, schema=NOT_CARRIED_SCHEMA)


# What each column holds: shown in the UI's column schema of every stage, the release card and
# Croissant (the README's "The record" says more).
COLUMN_DESCRIPTIONS = {
    "id": "Stable, content-addressed record id (SHA-256 of source kind, source id and content).",
    "source_kind": "Kind of source collection: archives, texts, images or social.",
    "source_partition": "The source partition (WARC file, collection folder or day) it came from.",
    "source_id": "The identifier the source gave the record (JSONL id, post URI, WARC URI).",
    "source_uri": "Where the record can be found at its source (URL, or file path and line).",
    "title": "Title stated by the source or the page, if any.",
    "text": "The text: as the source gave it in the source stage; from the clean stage on, the "
    "main text extracted, normalised, filtered and PII-redacted.",
    "caption": "The image's cleaned caption (or its title when it has no caption).",
    "image": "Image facts checked when the record was read: its name in this release (file), "
    "source URL, width, height, format, mode and size in bytes.",
    "image_data": "The image itself: its bytes (SHA-256 in `sha256`) and its name in this "
    "release; empty for a remote-only image, which is its `image.url`.",
    "phash": "64-bit perceptual hash of the image (DCT pHash, 16 hex digits).",
    "language": "Language of the text or caption (ISO 639 code; fastText lid.176).",
    "licence": "Licence, normalised: an SPDX id or a canonical licence URI.",
    "licence_raw": "The licence statement exactly as the source gave it.",
    "licence_class": "public-domain, permissive, share-alike, …; empty when admitted by consent.",
    "pd_jurisdiction": "Where the record is public domain when that is one country only "
    "(US: rightsstatements.org NoC-US and similar); empty otherwise.",
    "attribution": "Who must be credited, when the licence requires it.",
    "consent": "Consent and opt-out signals seen (channel, raw value, verdict, location).",
    "licence_evidence": "Licence statements found (channel, raw value, verdict, location).",
    "decision": "The rights audit's decision: INCLUDE or INCLUDE_ATTRIB.",
    "policy": "Fingerprint of the licence policy (and reviews) the decision was made under.",
    "sha256": "SHA-256 of the text, or of the image file's bytes.",
    "provenance": "Source file, offset or line, and every processing step with its version.",
    "record_role": "page, robots.txt, ai.txt or tdmrep.json capture; document; image; post.",
    "html": "The page's HTML as captured (source stage only).",
    "date": "Publication date from the markup or source, else the capture date.",
    "fetched_at": "When the crawler fetched the page (WARC-Date): the site files of then govern.",
    "language_score": "fastText's probability for the identified language.",
    "pii": "How many PII matches of each kind were replaced by placeholders.",
    "lines_removed": "Lines removed by the line-level quality rules.",
    "content_type": "The capture's HTTP Content-Type.",
    "encoding": "The character encoding the page was decoded with.",
    "http_status": "The capture's HTTP status code.",
    "http_headers": "The capture's HTTP response headers (consent signals are read from them).",
}
