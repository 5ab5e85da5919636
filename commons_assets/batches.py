"""Partitions in bounded batches: how a step holds at most one batch of records in memory,
whatever the size of the partition (a Common Crawl WARC of 40,000 pages as much as a sample).

A step reads its upstream table a row group at a time (`StoredTable.batches`), works on one
batch, and adds what it made to a `TableSpool`: a Parquet file in the lake's scratch folder,
written one row group per batch. It returns the finished `SpooledTable`, which the IO manager
moves into place (a rename on a local lake, an upload on an object store). The batch size is a
setting (`[limits] batch_rows`, `batch_bytes` in policy/sources.toml); since every table is
written in row groups of at most one batch, the next step reads it back in bounded pieces too.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from commons_assets.lake import STALE_TEMPORARY_SECONDS
from commons_assets.records import Schema

MIB = 1024 * 1024
SPOOL_PREFIX = ".spool."
SPOOL_SUFFIX = ".parquet.tmp"
# What a row costs beyond its strings and bytes (ids, numbers, nested signals), a rough guess
# that keeps batches of tiny records from growing without bound in count.
ROW_OVERHEAD_BYTES = 512


@dataclass(frozen=True)
class BatchSize:
    """How much of a partition a step holds at once: a batch ends at whichever comes first."""

    rows: int = 5000
    bytes: int = 64 * MIB


def remove_stale_spools(folder: Path, now: float | None = None) -> None:
    """Remove the spools of killed runs (older than a write could take); younger ones may belong
    to a step running now."""
    now = time.time() if now is None else now
    for leftover in folder.glob(f"{SPOOL_PREFIX}*{SPOOL_SUFFIX}"):
        with contextlib.suppress(OSError):  # gone already: its step finished meanwhile
            if now - leftover.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                leftover.unlink()


def approximate_bytes(row: Mapping[str, Any]) -> int:
    """What a record weighs in memory, roughly: its strings and bytes as Python holds them (a
    page with one character outside Latin-1 takes 2 or 4 bytes per character, not 1), plus a
    fixed overhead."""
    size = ROW_OVERHEAD_BYTES
    for value in row.values():
        if isinstance(value, str | bytes):
            size += sys.getsizeof(value)
    return size


def new_spool_file(folder: Path) -> Path:
    """An empty file in the scratch folder, for a step's table (old spools of killed runs go)."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_spools(folder)
    handle, name = tempfile.mkstemp(prefix=SPOOL_PREFIX, suffix=SPOOL_SUFFIX, dir=folder)
    os.close(handle)
    return Path(name)


class TableSpool:
    """A table written a batch at a time into a temporary Parquet file in `folder`; `finish()`
    returns it as a `SpooledTable`. Rows added one by one are batched here; whole frames are
    written as they come (each one row group)."""

    def __init__(self, schema: Schema, folder: Path, size: BatchSize = BatchSize()):
        self.path = new_spool_file(folder)
        self.size = size
        self._schema = schema
        self.restart()

    def restart(self) -> None:
        """Empty the spool (a reader starting the file over)."""
        if getattr(self, "_writer", None) is not None:
            self._writer.close()  # type: ignore[union-attr]
        self.rows = 0
        self._pending: list[Mapping[str, Any]] = []
        self._pending_bytes = 0
        self._writer: pq.ParquetWriter | None = None
        self._arrow_schema: pa.Schema | None = None

    def add(self, row: Mapping[str, Any]) -> None:
        self._pending.append(row)
        self._pending_bytes += approximate_bytes(row)
        if len(self._pending) >= self.size.rows or self._pending_bytes >= self.size.bytes:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            batch = pl.DataFrame(self._pending, schema=self._schema)
            self._pending, self._pending_bytes = [], 0
            self.write(batch)

    def write(self, frame: pl.DataFrame) -> None:
        """Write a batch (one row group); its columns must be the spool's schema."""
        if frame.schema != pl.Schema(self._schema):
            frame = frame.select(list(self._schema)).cast(self._schema)  # type: ignore[arg-type]
        table = frame.to_arrow()
        if self._writer is None:
            self._arrow_schema = table.schema
            # zstd and statistics, as every lake table: identical batches give identical files.
            self._writer = pq.ParquetWriter(
                self.path, table.schema, compression="zstd", write_statistics=True
            )
        elif table.schema != self._arrow_schema:
            table = table.cast(self._arrow_schema)
        if table.num_rows:
            self._writer.write_table(table, row_group_size=table.num_rows)
            self.rows += table.num_rows

    def finish(self) -> SpooledTable:
        self.flush()
        if self._writer is None:  # no rows at all: still a table, with its columns
            self.write(pl.DataFrame(schema=self._schema))
        assert self._writer is not None
        self._writer.close()
        return SpooledTable(self.path, self.rows)

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> TableSpool:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:  # the step failed: leave nothing behind
            self.discard()


@dataclass(frozen=True)
class SpooledTable:
    """A step's finished table, on local disk until the IO manager moves it into the lake."""

    path: Path
    rows: int

    @property
    def height(self) -> int:
        return self.rows

    def lazy(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.path)

    def head(self, rows: int) -> pl.DataFrame:
        return self.lazy().head(rows).collect()

    def select(self, *columns: Any) -> pl.DataFrame:
        """A few columns of the whole table (for a step's report): never the text."""
        return self.lazy().select(*columns).collect()


class StoredTable:
    """An upstream partition's table in the lake, read a row group at a time; on a local lake
    or any fsspec store alike."""

    def __init__(self, path: UPath):
        self.path = path

    def _open(self) -> IO[bytes]:
        return self.path.open("rb")

    @functools.cached_property
    def _footer(self) -> pq.FileMetaData:
        """The file's footer, read once (one request on an object store) for the facts below."""
        with self._open() as handle:
            return pq.ParquetFile(handle).metadata

    @property
    def height(self) -> int:
        return int(self._footer.num_rows)

    @property
    def columns(self) -> list[str]:
        return list(self.schema)

    @property
    def schema(self) -> pl.Schema:
        """The table's columns and their Polars types."""
        return pl.DataFrame(
            pl.from_arrow(self._footer.schema.to_arrow_schema().empty_table())
        ).schema

    @property
    def uncompressed_bytes(self) -> int:
        """What the table's row groups take uncompressed: about what its rows take in memory."""
        footer = self._footer
        return sum(footer.row_group(g).total_byte_size for g in range(footer.num_row_groups))

    def batches(
        self, size: BatchSize = BatchSize(), columns: list[str] | None = None
    ) -> Iterator[pl.DataFrame]:
        """The table in order, at most `size.rows` rows at a time (and at most one row group, as
        its writer sized it)."""
        with self._open() as handle:
            parquet = pq.ParquetFile(handle)
            for group in range(parquet.num_row_groups):
                for batch in parquet.iter_batches(
                    batch_size=size.rows, row_groups=[group], columns=columns
                ):
                    yield pl.DataFrame(pl.from_arrow(batch))

    def select(self, *columns: str) -> pl.DataFrame:
        """A few columns of the whole table (ids, URLs, decisions): never the texts."""
        with self._open() as handle:
            return pl.read_parquet(handle, columns=list(columns))
