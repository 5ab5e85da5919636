"""Size limits of the source readers, per line, record, file and image: settings in
`policy/sources.toml` (`[limits]`), with the defaults below. Whatever is over a limit is
quarantined with the limit in its reason, and the rest of the partition goes on; nothing over a
limit is held in memory whole (a line or a WARC body is read only up to the limit)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from upath import UPath

from commons_assets.batches import MIB, BatchSize
from commons_assets.settings import (
    DEFAULT_MAX_IMAGE_PIXELS,
    SettingsFileError,
    SettingsModel,
    read_settings_file,
)

LIMITS_FILE = Path("policy") / "sources.toml"


class LimitsError(SettingsFileError):
    """The limits file says something Commons cannot apply."""


@dataclass(frozen=True)
class SourceLimits:
    # A JSON Lines record is one line: 8 MiB holds a book (War and Peace is 3.2 MiB).
    max_line_bytes: int = 8 * MIB
    # One WARC record's body: Common Crawl truncates at 1 MiB; 16 MiB keeps long pages whole.
    max_record_bytes: int = 16 * MIB
    # One source file (a WARC, a JSON Lines file): a Common Crawl WARC is about 1 GiB.
    max_file_bytes: int = 64 * 1024 * MIB
    # One image file, and its decoded size (Pillow calls 2x89 Mpx a decompression bomb).
    max_image_bytes: int = 100 * MIB
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    # What every per-partition step holds in memory at once (batches.py): a batch ends at this
    # many records or this many bytes of text and HTML, whichever comes first. 64 MiB keeps a
    # step of the pages chain under about 1 GB of RSS whatever the WARC's size (`commons bench
    # scale` measures it).
    batch_rows: int = 5000
    batch_bytes: int = 64 * MIB
    # What the release step's sort of every admitted row (publish/rows.py) holds in memory;
    # the rest waits in scratch files, so a release of any size fits.
    sort_memory_bytes: int = 512 * MIB
    # What DuckDB holds in memory while `dedup_clusters` updates the duplicate index and builds
    # the clusters of the whole lake (dedupe/cluster_table.py); it spills the rest to disk.
    index_memory_bytes: int = 512 * MIB
    # What the release step's ledger of every record (its decision, its cluster, a published
    # row's narrow columns: publish/ledger.py) holds in memory; DuckDB spills the rest to the
    # scratch disk.
    ledger_memory_bytes: int = 256 * MIB
    source: str = "defaults"

    def summary(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @property
    def batch(self) -> BatchSize:
        return BatchSize(rows=self.batch_rows, bytes=self.batch_bytes)


# The least the ledger's DuckDB is given (the tests run it there, beyond its size).
LEDGER_MEMORY_LEAST = 32 * MIB


class LimitsTable(SettingsModel):
    max_line_bytes: int | None = Field(None, gt=0)
    max_record_bytes: int | None = Field(None, gt=0)
    max_file_bytes: int | None = Field(None, gt=0)
    max_image_bytes: int | None = Field(None, gt=0)
    max_image_pixels: int | None = Field(None, gt=0)
    batch_rows: int | None = Field(None, gt=0)
    batch_bytes: int | None = Field(None, ge=MIB)
    sort_memory_bytes: int | None = Field(None, ge=16 * MIB)
    # DuckDB needs room for its fixed buffers: a million-pair chain ran out of 64 MiB, not 128.
    index_memory_bytes: int | None = Field(None, ge=128 * MIB)
    ledger_memory_bytes: int | None = Field(None, ge=LEDGER_MEMORY_LEAST)


class LimitsFile(SettingsModel):
    limits: LimitsTable = LimitsTable()


def load_limits(root: UPath) -> SourceLimits:
    """The limits in `<root>/policy/sources.toml`, or the defaults without one."""
    read = read_settings_file(root, LIMITS_FILE, LimitsFile, LimitsError)
    if read is None:
        return SourceLimits()
    return SourceLimits(**read.limits.model_dump(exclude_unset=True), source=LIMITS_FILE.as_posix())


DEFAULT_LIMITS = SourceLimits()
