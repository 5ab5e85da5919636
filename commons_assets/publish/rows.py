"""A release's rows in id order, in memory bounded by a setting whatever the size of the lake
(issue #17).

A release writes its rows sorted by id (the same input gives the same shards). Sorting the whole
lake in memory grows with it, and the libraries' out-of-core sorts do not hold a bound on rows
that carry page texts (measured here 2026-12-04 on 8 KB texts: DuckDB 2.0's ORDER BY ran out of
memory at a 64 MiB limit on 40 MB of rows and at 128 MiB on 30 MB, as in duckdb issues #15687
and #16482; Polars' streaming sort peaked at 483 MB of RSS for 160 MB). So this is a
distribution sort on the id, in three passes over the audit tables:

1. `id_ranges`: ranges of ids of about equal size, from a sample of the ids (the parts are
   sized so that one holds at most a third of `[limits] sort_memory_bytes`);
2. each audit table read a batch at a time (`[limits] batch_rows`, `batch_bytes`), its admitted
   rows that dedupe keeps appended to their range's scratch file;
3. each range read whole, sorted, and appended to one file per tier and config (`text`,
   `image_text`), which thus holds that tier's rows of the config in id order.

A shard is then a slice of one of those files, streamed by Polars into its Parquet file
(`sink_parquet`: the bytes `write_parquet` gives for the same rows). What the release says of
every row (the card, CHANGES, ATTRIBUTION, the manifest and the asset's metadata) the release's
ledger (publish/ledger.py) reads in place from the same files, a few columns at a time.
"""

from __future__ import annotations

import math
import resource
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from commons_assets.batches import BatchSize, StoredTable
from commons_assets.records import conformed

ADMITTED = ("INCLUDE", "INCLUDE_ATTRIB")
TIERS = ("open", "consented", "gated")
CONFIG = "_config"  # text or image_text: a scratch column, never published


def with_published_columns(rows: pl.LazyFrame) -> pl.LazyFrame:
    """The audit's evidence split into `consent` (signals) and `licence_evidence` (licence
    statements with their verdicts), and `pd_jurisdiction` where public domain is US-only."""
    is_licence = pl.element().struct.field("channel") == "licence"
    us_only = pl.col("licence_flags").list.contains("pd_jurisdiction=US")
    return rows.with_columns(
        pl.col("evidence").list.filter(~is_licence).alias("consent"),
        pl.col("evidence").list.filter(is_licence).alias("licence_evidence"),
        pl.when(us_only).then(pl.lit("US")).otherwise(None).alias("pd_jurisdiction"),
    )


# Whether dedupe leaves out each id of a batch (a duplicate or a withdrawn copy): the release's
# ledger answers it (`Ledger.left_out`), whatever the number of ids left out.
LeftOut = Callable[[pl.Series], pl.Series]


def left_out_of(ids: Collection[str]) -> LeftOut:
    """The `LeftOut` of a few ids at hand (the tests' reference)."""
    gone = pl.Series("id", sorted(ids), pl.String)
    return lambda batch: batch.is_in(gone.implode())


def publishable(audited: pl.DataFrame, excluded_ids: Collection[str]) -> pl.DataFrame:
    """The definition `sorted_rows` implements out of core, in memory for a frame at hand (the
    tests' reference): admitted rows that dedupe keeps, sorted by id, with the published
    columns."""
    rows = audited.filter(
        pl.col("decision").is_in(ADMITTED) & ~pl.col("id").is_in(sorted(excluded_ids))
    )
    return with_published_columns(rows.lazy()).collect().sort("id")


@dataclass(frozen=True)
class SortedRows:
    """The release's rows in scratch Parquet files, one per tier and config, sorted by id."""

    schema: pl.Schema  # the audit tables' columns, as Polars concatenates them
    streams: dict[tuple[str, str], tuple[Path, int]]  # (tier, config) -> (file, rows)

    @property
    def height(self) -> int:
        return sum(rows for _, rows in self.streams.values())

    def rows(self, tier: str, config: str) -> int:
        return self.streams[(tier, config)][1] if (tier, config) in self.streams else 0

    def stream(self, tier: str, config: str) -> pl.LazyFrame:
        """One tier's rows of one config, in id order, with the published columns; nothing is
        read until it is collected or sunk."""
        if (tier, config) not in self.streams:
            return with_published_columns(pl.LazyFrame(schema=self.schema))
        path, _ = self.streams[(tier, config)]
        return with_published_columns(pl.scan_parquet(path).cast(self.schema))

    @property
    def files(self) -> dict[tuple[str, str], Path]:
        """Each (tier, config)'s sorted file (the release's ledger reads them in place)."""
        return {key: path for key, (path, _) in self.streams.items()}


def unified_schema(tables: Sequence[StoredTable]) -> pl.Schema:
    """The columns and types Polars gives these tables concatenated (diagonal, relaxed)."""
    empty = [pl.DataFrame(schema=table.schema) for table in tables]
    return pl.concat(empty, how="diagonal_relaxed").schema


SAMPLED_IDS = 20_000  # ids sampled to cut the ranges: about 20,000 / parts per range


def id_ranges(tables: Sequence[StoredTable], parts: int, size: BatchSize) -> pl.Series:
    """The ids (at most `parts - 1`) that cut the ids of `tables` into ranges of about equal
    counts: range k holds the ids below cut k and at or above cut k - 1."""
    if parts <= 1:
        return pl.Series("id", [], pl.String)
    total = sum(table.height for table in tables)
    fraction = min(1.0, SAMPLED_IDS / max(total, 1))
    sample = pl.concat(
        [
            batch["id"].sample(fraction=fraction, seed=0)
            for table in tables
            for batch in table.batches(size, columns=["id"])
        ]
    ).sort()
    cuts = [sample[len(sample) * k // parts] for k in range(1, parts)]
    return pl.Series("id", cuts, pl.String).unique(maintain_order=True)


def _room_for_open_files(count: int) -> None:
    """Raise the soft limit of open files (to the hard one at most) for `count` more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


class _Appender:
    """A scratch file of the unified schema, appended to a frame at a time: an Arrow IPC stream
    (a range: it keeps no footer of its pieces, where a Parquet writer keeps every row group's
    metadata until it closes, which grows with ranges x batches), or a Parquet file of row
    groups (a tier's config: sliced and streamed into shards)."""

    def __init__(self, path: Path, schema: pl.Schema, row_group_rows: int | None = None):
        self.path, self.rows, self._row_group_rows = path, 0, row_group_rows
        self._schema = pl.DataFrame(schema=schema).to_arrow().schema
        self._writer: pq.ParquetWriter | pa.ipc.RecordBatchStreamWriter | None = None

    def _open(self) -> pq.ParquetWriter | pa.ipc.RecordBatchStreamWriter:
        if self._row_group_rows is None:
            options = pa.ipc.IpcWriteOptions(compression="zstd")
            return pa.ipc.new_stream(str(self.path), self._schema, options=options)
        return pq.ParquetWriter(self.path, self._schema, compression="zstd", write_statistics=False)

    def append(self, frame: pl.DataFrame) -> None:
        if not frame.height:
            return
        self._writer = self._writer or self._open()
        table = frame.to_arrow().cast(self._schema)
        if isinstance(self._writer, pq.ParquetWriter):
            self._writer.write_table(table, row_group_size=self._row_group_rows)
        else:
            self._writer.write_table(table)
        self.rows += frame.height

    def read(self) -> pl.DataFrame:
        return pl.read_ipc_stream(self.path)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _distribute(
    tables: Sequence[StoredTable],
    left_out: LeftOut,
    cuts: pl.Series,
    ranges: list[_Appender],
    size: BatchSize,
    schema: pl.Schema,
) -> None:
    """Pass 2: every admitted row that dedupe keeps appended to its id range's file."""
    for table in tables:
        for batch in table.batches(size):
            published = pl.col("decision").is_in(ADMITTED) & pl.col("tier").is_in(TIERS)
            admitted = batch.filter(published)
            if not admitted.height:
                continue
            admitted = admitted.filter(~left_out(admitted["id"].cast(pl.String)))
            if not admitted.height:
                continue
            where = cuts.search_sorted(admitted["id"], side="right").alias("_range")
            keyed = conformed(admitted, schema).with_columns(where)
            for (index,), piece in keyed.partition_by("_range", as_dict=True).items():
                ranges[int(index)].append(piece.drop("_range"))
    for part in ranges:
        part.close()


def _sort_ranges(
    ranges: list[_Appender],
    image_kinds: Sequence[str],
    folder: Path,
    size: BatchSize,
    schema: pl.Schema,
) -> dict[tuple[str, str], _Appender]:
    """Pass 3: each range sorted and appended to its tiers' and configs' files, in id order."""
    streams: dict[tuple[str, str], _Appender] = {}
    images = pl.col("source_kind").is_in(list(image_kinds))
    config = pl.when(images).then(pl.lit("image_text")).otherwise(pl.lit("text")).alias(CONFIG)
    for part in ranges:
        if not part.rows:
            continue
        rows = part.read().sort("id")
        part.path.unlink()
        split = rows.with_columns(config).partition_by("tier", CONFIG, as_dict=True)
        for (tier, name), piece in split.items():
            key = (str(tier), str(name))
            if key not in streams:
                streams[key] = _Appender(folder / f"{tier}-{name}.parquet", schema, size.rows)
            streams[key].append(piece.drop(CONFIG))
    for appender in streams.values():
        appender.close()
    return streams


@contextmanager
def sorted_rows(
    tables: Sequence[StoredTable],
    left_out: LeftOut,
    image_kinds: Sequence[str],
    scratch: Path,
    memory_bytes: int,
    size: BatchSize,
) -> Iterator[SortedRows]:
    """The admitted rows of `tables` (audit partitions) that dedupe keeps, sorted into files
    under `scratch` that are removed on exit. One id range is held at a time: a third of
    `memory_bytes` (it is sorted into a copy of itself), a batch of `size` while distributing."""
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="release-rows.", dir=scratch))
    try:
        schema = unified_schema(tables)
        stored = sum(table.uncompressed_bytes for table in tables)
        cuts = id_ranges(tables, math.ceil(stored / max(memory_bytes // 3, 1)), size)
        _room_for_open_files(len(cuts) + 1)
        ranges = [_Appender(folder / f"range-{k:05d}.arrows", schema) for k in range(len(cuts) + 1)]
        _distribute(tables, left_out, cuts, ranges, size, schema)
        streams = _sort_ranges(ranges, image_kinds, folder, size, schema)
        yield SortedRows(schema, {key: (a.path, a.rows) for key, a in streams.items()})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
