"""The registry of source kinds: everything a stage needs to know about a kind, in one entry.

The per-kind assets of every stage (source, clean, rights audit, signatures), their partitioned
checks, the re-audit jobs, the partition sensor and the release's lineage table are generated
from `KINDS`. Adding a kind is one reader plus one entry here (see
commons_tests/test_kinds.py, which registers a toy kind and builds it end to end).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import dagster as dg
from upath import UPath

from commons_assets.clean import documents
from commons_assets.clean.documents import CleanOutcome, DecidedBefore
from commons_assets.clean.quality import QUALITY_BY_KIND, QualityConfig
from commons_assets.clean.settings import CleanSettings
from commons_assets.defs.sources.partitions import (
    archive_partitions,
    image_partitions,
    social_partitions,
    text_partitions,
)
from commons_assets.lake import Lake
from commons_assets.records import PartitionRead, Record
from commons_assets.sources import layout
from commons_assets.sources.images import read_image_collection
from commons_assets.sources.limits import SourceLimits
from commons_assets.sources.social import read_social_day
from commons_assets.sources.texts import read_text_collection
from commons_assets.sources.warc import read_warc

Rows = list[Record]
# (lake, partition key, the partition's file or folder — None when it is gone —, size limits,
# the PartitionRead to fill: the source step's, which spools the records batch by batch)
Reader = Callable[[Lake, str, UPath | None, SourceLimits, PartitionRead], PartitionRead]
# (rows of the source partition, the clean settings in force, the lake)
# (rows, settings, lake, the audit's decision before extraction: given to kinds with site
# policies, whose pages it may exclude before their text is extracted; else None)
Cleaner = Callable[[Rows, CleanSettings, Lake, DecidedBefore | None], CleanOutcome]


@dataclass(frozen=True)
class SourceKind:
    """One kind of source collection and how each stage treats it."""

    name: str  # the rows' `source_kind` and the folder under sources/
    partitions: dg.PartitionsDefinition
    source_asset: str  # the source asset's name (archive_pages)
    suffix: str  # the downstream assets' names: clean_<suffix>, rights_<suffix>, …
    locate: Callable[[UPath], dict[str, UPath]]  # sources/ -> {partition key: file or folder}
    read: Reader
    clean: Cleaner
    quality: QualityConfig  # the clean stage's default rules ([quality.<name>] overrides them)
    noun: str  # what a record is, in descriptions ("web pages")
    source_description: str
    clean_description: str
    source_tags: frozenset[str] = field(default_factory=lambda: frozenset({"parquet", "polars"}))
    clean_tags: frozenset[str] = field(default_factory=lambda: frozenset({"parquet", "polars"}))
    # Audited against the robots.txt/ai.txt/tdmrep.json captures of the site_policies asset.
    site_policies: bool = False
    # A collection.json beside the records may gate the collection (`"gated": true`).
    collection_terms: bool = False
    # `text` rows are deduplicated by MinHash; `image_text` rows by perceptual hash.
    shard: Literal["text", "image_text"] = "text"

    @property
    def clean_asset(self) -> str:
        return f"clean_{self.suffix}"

    @property
    def audit_asset(self) -> str:
        return f"rights_{self.suffix}"

    @property
    def signature_asset(self) -> str:
        return f"signatures_{self.suffix}"

    @property
    def dynamic(self) -> bool:
        """Whether partitions are registered from the files on disk (by the sensor)."""
        return isinstance(self.partitions, dg.DynamicPartitionsDefinition)


def _read_archive(
    lake: Lake, key: str, path: UPath | None, limits: SourceLimits, into: PartitionRead
) -> PartitionRead:
    assert path is not None  # a missing partition is answered before the reader is called
    return read_warc(path, key, lake.relative(path), limits, into)


def _read_texts(
    lake: Lake, key: str, folder: UPath | None, limits: SourceLimits, into: PartitionRead
) -> PartitionRead:
    assert folder is not None
    return read_text_collection(folder, key, lake.root_path, limits, into)


def _read_images(
    lake: Lake, key: str, folder: UPath | None, limits: SourceLimits, into: PartitionRead
) -> PartitionRead:
    assert folder is not None
    return read_image_collection(folder, key, lake.root_path, limits, into)


def _read_social(
    lake: Lake, key: str, folder: UPath | None, limits: SourceLimits, into: PartitionRead
) -> PartitionRead:
    # A day with no folder is a day without posts, not a missing source.
    return read_social_day(lake.sources / layout.SOCIAL / key, key, lake.root_path, limits, into)


def documents_of(kind: str) -> Cleaner:
    def clean(
        rows: Rows, settings: CleanSettings, lake: Lake, decided: DecidedBefore | None
    ) -> CleanOutcome:
        return documents.clean_documents(rows, kind, settings)

    return clean


KINDS: tuple[SourceKind, ...] = (
    SourceKind(
        name=layout.ARCHIVES,
        partitions=archive_partitions,
        source_asset="archive_pages",
        suffix="pages",
        locate=layout.archive_files,
        read=_read_archive,
        clean=lambda rows, settings, lake, decided: documents.clean_pages(rows, settings, decided),
        quality=QUALITY_BY_KIND[layout.ARCHIVES],
        noun="web pages",
        source_description=(
            "Web archive captures, one partition per WARC file in `sources/archives/`. HTML pages "
            "and the site files (robots.txt, ai.txt, .well-known/tdmrep.json) with their HTTP "
            "headers; unreadable records are quarantined with their byte offset."
        ),
        clean_description=(
            "Main text of each archived HTML page (trafilatura), with the page's licence and "
            "consent evidence from its markup, normalised (ftfy, NFC), language-identified "
            "(fastText lid.176), filtered by C4 line rules, Gopher and FineWeb quality rules, "
            "and PII-redacted. Dropped pages are kept in lake/_dropped with their reason."
        ),
        source_tags=frozenset({"warc", "parquet", "polars"}),
        site_policies=True,
    ),
    SourceKind(
        name=layout.TEXTS,
        partitions=text_partitions,
        source_asset="corpus_texts",
        suffix="texts",
        locate=lambda sources: layout.collection_folders(sources, layout.TEXTS),
        read=_read_texts,
        clean=documents_of(layout.TEXTS),
        quality=QUALITY_BY_KIND[layout.TEXTS],
        noun="text collections",
        source_description=(
            "Text collections (Common-Corpus style), one partition per folder in "
            "`sources/texts/`: every JSON Lines document with its declared licence, author and "
            "URL; defaults from `collection.json`. Bad lines are quarantined with their line "
            "number."
        ),
        clean_description=(
            "Text collection documents normalised, language-identified, filtered by Gopher "
            "repetition and quality rules (book-friendly settings) and PII-redacted."
        ),
        collection_terms=True,
    ),
    SourceKind(
        name=layout.IMAGES,
        partitions=image_partitions,
        source_asset="image_records",
        suffix="images",
        locate=lambda sources: layout.collection_folders(sources, layout.IMAGES),
        read=_read_images,
        clean=lambda rows, settings, lake, _: documents.clean_images(
            rows, lake.root_path, settings
        ),
        quality=QUALITY_BY_KIND[layout.IMAGES],
        noun="images",
        source_description=(
            "Image collections, one partition per folder in `sources/images/`: each record of "
            "`records.jsonl` with its rights statement, the image decoded under a pixel limit, "
            "its size, format and SHA-256. Files that are not images, too large or missing are "
            "quarantined."
        ),
        clean_description=(
            "Image-text rows: cleaned captions, perceptual hashes (pHash) of the verified "
            "images, caption language and PII redaction. Records without a caption are dropped."
        ),
        source_tags=frozenset({"image", "parquet", "polars"}),
        clean_tags=frozenset({"image", "parquet", "polars"}),
        collection_terms=True,
        shard="image_text",
    ),
    SourceKind(
        name=layout.SOCIAL,
        partitions=social_partitions,
        source_asset="social_posts",
        suffix="posts",
        locate=layout.social_days,
        read=_read_social,
        clean=documents_of(layout.SOCIAL),
        quality=QUALITY_BY_KIND[layout.SOCIAL],
        noun="social posts",
        source_description=(
            "Social posts, one daily partition per `sources/social/<YYYY-MM-DD>/`: posts with "
            "their author's user-intent declaration as consent evidence. Posts deleted by their "
            "author or account are not carried (only counted). A day with no folder has no "
            "posts."
        ),
        clean_description=(
            "Social posts normalised, language-identified and PII-redacted; judged by post "
            "rules (length), not by web-page rules."
        ),
    ),
)


def by_name(kinds: Sequence[SourceKind]) -> dict[str, SourceKind]:
    return {kind.name: kind for kind in kinds}


def quality_defaults(kinds: Sequence[SourceKind]) -> dict[str, QualityConfig]:
    """The clean stage's default rules per kind (what `[quality.<kind>]` may override)."""
    return {kind.name: kind.quality for kind in kinds}
