"""The persisted duplicate index (`lake/_dedupe_index/index.duckdb`): which signature files are
indexed, the rows clustering needs of each record (with their LSH keys), and the confirmed
duplicate pairs found so far. Adding a partition reads that partition a batch at a time and, for
each batch, only the indexed rows that share an LSH bucket or a pHash chunk with it (the index
lookup; earlier batches of the partition included); pairs among old partitions are never
recomputed. A removed or re-materialized partition loses its rows first, and the pairs of any
content no copy holds any more, so no stale entry survives.

Exact copies are grouped by content, not paired: a record's `content` is its modality and hash
(texts: the normalised text's sha256; images: the file's), and equal contents are one cluster
node. A record whose content is already indexed costs one hash lookup and no LSH lookup (its
near pairs were found when the content first came); the others are looked up and compared one
row per content. So the pairs are between contents: a text copied a million times stores no
pair, and its lookup brings one row, where pairing records stored N²/2 pairs and brought all N
copies into Python. The pair of two contents stays while any copy of each is indexed.

Why a DuckDB database rather than Parquet files: Parquet files are immutable, so a keyed index
kept in them is either one file per partition (the lookup then opens every file: measured
0.035 s at 2 partitions, 0.065 s at 16) or rewritten on every addition (a cost that grows with
the corpus). DuckDB's own storage appends and deletes rows in a transaction, so adding a
partition costs about the same whatever is already indexed (`commons bench dedupe` measures
it), and a crash mid-update leaves the previous index."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from commons_assets.batches import BatchSize
from commons_assets.dedupe.cluster_table import ClusterTable, write_clusters
from commons_assets.dedupe.clusters import DedupeSettings, find_edges
from commons_assets.dedupe.schemas import RECORD_SCHEMA
from commons_assets.records import Schema, conformed

# A confirmed pair of two contents (`CONTENT`), the lesser first.
EDGE_SCHEMA: Schema = {
    "first_content": pl.String,
    "second_content": pl.String,
    "match": pl.String,
    "similarity": pl.Float64,
}
# The layout of the index's tables: an index of another layout is built again from its files.
LAYOUT = "contents-1"
# DuckDB's names for the index's column types.
SQL_TYPES = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    pl.Boolean: "BOOLEAN",
    pl.Float64: "DOUBLE",
    pl.List(pl.UInt32): "UINTEGER[]",
    pl.List(pl.UInt64): "UBIGINT[]",
}


def _columns(schema: Schema) -> str:
    return ", ".join(f"{name} {SQL_TYPES[dtype]}" for name, dtype in schema.items())


TABLES = f"""
    CREATE TABLE IF NOT EXISTS settings (fingerprint VARCHAR);
    CREATE TABLE IF NOT EXISTS files (label VARCHAR, state VARCHAR);
    CREATE TABLE IF NOT EXISTS records ({_columns(RECORD_SCHEMA)}, content VARCHAR);
    CREATE TABLE IF NOT EXISTS edges ({_columns(EDGE_SCHEMA)});
"""
# One row per indexed content that shares an LSH key with the batch's new contents (`fresh`).
# The join builds its hash table on the incoming side (a few thousand keys) and streams the
# index; DuckDB narrows the copies of a content to one row before Python sees any. The keys are
# unnested from `records` at lookup time: a separate table of unnested keys made every later
# checkpoint slower (measured: closing the index took 0.009 s after partition 1, 0.026 s after
# partition 32; without it 0.008 s and 0.009 s).
LOOKUP = """
    WITH hits AS (
        SELECT DISTINCT content FROM (SELECT content, unnest(band_keys) AS key FROM records)
        JOIN (SELECT DISTINCT unnest(band_keys) AS key FROM fresh) USING (key)
    )
    SELECT * FROM records WHERE content IN (SELECT content FROM hits)
    QUALIFY row_number() OVER (PARTITION BY content ORDER BY file, id) = 1
"""
LOOKUP_INTO = f"""
    CREATE OR REPLACE TEMP TABLE lookup AS
    SELECT *, row_number() OVER (ORDER BY content) - 1 AS part_row FROM ({LOOKUP})
"""
LOOKUP_PART = (
    "SELECT * EXCLUDE (part_row) FROM lookup WHERE part_row >= ? AND part_row < ? ORDER BY part_row"
)
KNOWN = "SELECT DISTINCT content FROM records WHERE content IN (SELECT content FROM incoming)"
LOCK_WAIT_SECONDS = 120.0


@dataclass
class IndexUpdate:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reindexed: list[str] = field(default_factory=list)
    rows_read_in_full: int = 0
    lookup_rows: int = 0
    lookup_seconds: float = 0.0
    copies_of_indexed_content: int = 0
    new_pairs: int = 0
    records_indexed: int = 0


# What DuckDB may hold in memory while it updates the index or builds the clusters; past it, it
# spills to `<index>.tmp` beside the database (DuckDB's own default is 80 % of the machine's RAM).
MEMORY_BYTES = 512 * 1024 * 1024
BATCH_ROWS = BatchSize().rows  # a step's batch (`[limits] batch_rows`)


@contextmanager
def connect(
    path: Path, read_only: bool = False, memory_bytes: int = MEMORY_BYTES
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The index database. DuckDB lets one process write a database file at a time, so a second
    writer (two `dedup_clusters` runs at once) waits for the lock instead of failing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        connection.execute(f"SET memory_limit = '{int(memory_bytes)}B'").fetchall()
        if not read_only:
            connection.execute(TABLES).fetchall()
        yield connection
    finally:
        connection.close()


@dataclass(frozen=True)
class SignatureTable:
    """One partition's signatures as the index takes them in: the table, and a state that
    changes whenever the table is written again (then its rows and pairs are indexed again)."""

    state: str
    table: pl.LazyFrame

    @classmethod
    def of_file(cls, path: Path) -> SignatureTable:
        """A signature file, its state its size and modification time."""
        stat = path.stat()
        return cls(f"{stat.st_size}:{stat.st_mtime_ns}", pl.scan_parquet(path))


# What makes two records exact copies: same modality and same hash (find_edges' `exact`). A
# record without a hash is a content of its own.
CONTENT = (
    pl.when(pl.col("sha256").fill_null("") == "")
    .then(pl.lit("record:") + pl.col("id"))
    .when(pl.col("source_kind") == "images")
    .then(pl.lit("image:") + pl.col("sha256"))
    .otherwise(pl.lit("text:") + pl.col("sha256"))
    .alias("content")
)


def _incoming(label: str, signatures: SignatureTable, rows: int) -> Iterator[pl.DataFrame]:
    """A signature table's rows in the index's column layout, `rows` at a time."""
    [height] = signatures.table.select(pl.len()).collect().row(0)
    for offset in range(0, height, rows):
        frame = signatures.table.slice(offset, rows).collect()
        frame = conformed(frame.with_columns(pl.lit(label).alias("file")), RECORD_SCHEMA)
        yield frame.with_columns(CONTENT)


def _forget(connection: duckdb.DuckDBPyConnection, labels: list[str]) -> None:
    """The files' rows, then the pairs of every content no indexed copy holds any more (a pair
    of contents still held elsewhere stays: the other copies still need it)."""
    if not labels:
        return
    for table, column in (("files", "label"), ("records", "file")):
        connection.execute(
            f"DELETE FROM {table} WHERE {column} IN (SELECT unnest($labels))", {"labels": labels}
        ).fetchall()
    connection.execute(
        "DELETE FROM edges WHERE first_content NOT IN (SELECT content FROM records) "
        "OR second_content NOT IN (SELECT content FROM records)"
    ).fetchall()


def update_index(
    index: Path,
    current: Mapping[str, SignatureTable | Path],
    settings: DedupeSettings | None = None,
    fingerprint: str = "defaults",
    batch_rows: int = BATCH_ROWS,
    memory_bytes: int = MEMORY_BYTES,
) -> IndexUpdate:
    """Bring the index in step with the current signature tables (label -> table, or file).
    Different settings (`fingerprint`) re-index everything. A table is taken in `batch_rows`
    at a time: each batch is looked up against what is indexed (earlier batches of the same
    table included) and added; the indexed rows the lookup finds come `batch_rows` at a time
    too, so Python holds one batch and one part of its lookup at once."""
    tables = {
        label: SignatureTable.of_file(given) if isinstance(given, Path) else given
        for label, given in current.items()
    }
    settings = settings or DedupeSettings()
    update = IndexUpdate()
    for legacy in ("manifest.json", "edges.parquet"):  # the Parquet index of earlier versions
        index.with_name(legacy).unlink(missing_ok=True)
    with connect(index, memory_bytes=memory_bytes) as connection:
        connection.begin()
        stored = connection.execute("SELECT fingerprint FROM settings").fetchall()
        if stored != [(f"{LAYOUT}/{fingerprint}",)]:
            # New settings, or an index of an earlier layout: every pair must be found and
            # confirmed again.
            for table in ("settings", "files", "records", "edges"):
                connection.execute(f"DROP TABLE {table}").fetchall()
            connection.execute(TABLES).fetchall()
            connection.execute(
                "INSERT INTO settings VALUES (?)", [f"{LAYOUT}/{fingerprint}"]
            ).fetchall()
        indexed = dict(connection.sql("SELECT label, state FROM files").fetchall())
        states = {label: signatures.state for label, signatures in tables.items()}
        update.removed = sorted(set(indexed) - set(tables))
        update.reindexed = sorted(k for k in tables if k in indexed and indexed[k] != states[k])
        update.added = sorted(set(tables) - set(indexed))
        _forget(connection, [*update.removed, *update.reindexed])
        for label in sorted([*update.added, *update.reindexed]):
            for incoming in _incoming(label, tables[label], batch_rows):
                _add_batch(connection, incoming, settings, update, batch_rows)
            connection.execute("INSERT INTO files VALUES (?, ?)", [label, states[label]]).fetchall()
        connection.commit()
        [(update.records_indexed,)] = connection.sql("SELECT count(*) FROM records").fetchall()
    return update


def _add_batch(
    connection: duckdb.DuckDBPyConnection,
    incoming: pl.DataFrame,
    settings: DedupeSettings,
    update: IndexUpdate,
    lookup_rows: int,
) -> None:
    """One batch of a signature table: the pairs of its new contents with the indexed ones and
    among themselves, then its rows, into the index. Copies of an indexed content, and repeats
    within the batch, are not looked up: their content's pairs are found once."""
    connection.register("incoming", incoming.to_arrow())
    known = {content for (content,) in connection.sql(KNOWN).fetchall()}
    fresh = incoming.filter(~pl.col("content").is_in(list(known))).unique(
        "content", keep="first", maintain_order=True
    )
    update.rows_read_in_full += incoming.height
    update.copies_of_indexed_content += incoming.height - fresh.height
    if fresh.height:
        connection.register("fresh", fresh.to_arrow())
        new_contents = _as_contents(fresh)
        began = time.perf_counter()
        # The indexed contents that share a bucket with the batch stay in DuckDB (spilled past
        # its memory limit) and come to Python `lookup_rows` at a time, however many they are
        # (a template filled a million ways): Python holds one part at once.
        [(matched,)] = connection.execute(LOOKUP_INTO).fetchall()
        update.lookup_rows += matched
        for start in range(0, max(matched, 1), lookup_rows):
            existing = connection.sql(LOOKUP_PART, params=[start, start + lookup_rows]).pl()
            # The batch's pairs among its own contents once, with the first part.
            found = find_edges(new_contents, _as_contents(existing), settings, start == 0)
            _insert_pairs(connection, found, update)
        connection.execute("DROP TABLE lookup").fetchall()
        update.lookup_seconds += time.perf_counter() - began
        connection.unregister("fresh")
    connection.execute("INSERT INTO records BY NAME SELECT * FROM incoming").fetchall()
    connection.unregister("incoming")


def _insert_pairs(
    connection: duckdb.DuckDBPyConnection,
    found: list[tuple[str, str, str, float]],
    update: IndexUpdate,
) -> None:
    if not found:
        return
    # One insert of a frame: executemany inserted row by row (15 s for the 117,000 pairs of the
    # 50k-page bench).
    pairs = pl.DataFrame(
        [(*sorted(pair[:2]), *pair[2:]) for pair in found], schema=EDGE_SCHEMA, orient="row"
    )
    connection.register("new_edges", pairs.to_arrow())
    connection.execute("INSERT INTO edges SELECT * FROM new_edges").fetchall()
    connection.unregister("new_edges")
    update.new_pairs += len(found)


def _as_contents(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as find_edges' records, each named by its content: the pairs it finds are pairs of
    contents."""
    return frame.with_columns(pl.col("content").alias("id")).to_dicts()


def content_pairs(index: Path) -> pl.DataFrame:
    """Every confirmed pair of contents in the index, in one frame: for inspection (tests,
    benches), not for a step (the cluster table is built inside DuckDB: cluster_table.py)."""
    with connect(index, read_only=True) as connection:
        edges = connection.sql(
            "SELECT * FROM edges ORDER BY first_content, second_content, match"
        ).pl()
    return edges.cast(EDGE_SCHEMA)


def clusters(index: Path, out: Path, memory_bytes: int = MEMORY_BYTES) -> ClusterTable:
    """The cluster rows of everything indexed, written to `out` (cluster_table.py)."""
    with connect(index, read_only=True, memory_bytes=memory_bytes) as connection:
        return write_clusters(connection, out)
