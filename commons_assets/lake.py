"""The lake: one immutable Parquet file per asset partition, written atomically (DESIGN.md §2).

Every path goes through `Lake` as a UPath, so the same asset code runs on a local folder or on
an fsspec object store (`COMMONS_DATA=s3://bucket/commons`); the few operations that differ
(rename versus put, locks, spools) are the functions at the end of this module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import dagster as dg
import polars as pl
from pydantic import Field
from upath import UPath

from commons_assets.settings import as_data_path, data_root

if TYPE_CHECKING:
    from commons_assets.batches import SpooledTable

# A side table (quarantine, dropped, not carried): small frames, or spooled like the main one.
SideTable: TypeAlias = "pl.DataFrame | SpooledTable"

QUARANTINE_FOLDER = "_quarantine"  # bad input: unreadable records, files, images
DROPPED_FOLDER = "_dropped"  # readable records a filter dropped, with the reason
NOT_CARRIED_FOLDER = "_not_carried"  # records a reader deliberately left out, with the reason
SPOOL_FOLDER = "_spool"  # tables being written batch by batch, until the step ends
INDEX_FOLDER = "_dedupe_index"  # the persisted duplicate index (DuckDB), across partitions
# The table of an unpartitioned asset: `lake/<asset>/all.parquet`, so every asset is a folder of
# Parquet files whatever its partitioning (storage.py writes there).
UNPARTITIONED = "all"


# The instance's key-value store records which data root its runs, partitions and checks
# belong to: one instance per data root.
DATA_ROOT_KEY = "commons/data_root"


class DataRootMismatch(Exception):
    """The Dagster instance already serves another data root."""


def claim_data_root(instance: dg.DagsterInstance, root: UPath) -> None:
    """Record `root` as the instance's data root, or refuse when it serves another one: two
    roots in one instance would share dynamic partitions, check results and release history
    (the UI would show one root's release under the other's name)."""
    resolved = str(as_data_path(root))
    storage = instance.run_storage
    recorded = storage.get_cursor_values({DATA_ROOT_KEY}).get(DATA_ROOT_KEY)
    if recorded is None:
        storage.set_cursor_values({DATA_ROOT_KEY: resolved})
    elif recorded != resolved:
        raise DataRootMismatch(
            f"this Dagster instance serves the data root {recorded}, not {resolved}: give each "
            "data root an instance of its own (DAGSTER_HOME=<another folder>; README: Set up "
            "and run)"
        )


def instance_data_root(instance: dg.DagsterInstance) -> str | None:
    """The data root an instance serves, if one has claimed it."""
    return instance.run_storage.get_cursor_values({DATA_ROOT_KEY}).get(DATA_ROOT_KEY)


class Lake(dg.ConfigurableResource):
    """Data root of a Commons deployment: `sources/` in, `lake/` and `releases/` out."""

    root: str = Field(
        default_factory=lambda: str(data_root()),
        description="Data root (the COMMONS_DATA environment variable, default ./data): a "
        "folder, or an fsspec URL such as s3://bucket/commons (docs/scale-out.md).",
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every run claims the instance for its data root, or fails before any step runs."""
        if context.instance is not None:
            try:
                claim_data_root(context.instance, self.root_path)
            except DataRootMismatch as error:
                raise dg.Failure(description=str(error), allow_retries=False) from error

    @property
    def root_metadata(self) -> dict[str, dg.MetadataValue]:
        """The data root, for every materialization's metadata."""
        return {"data_root": dg.MetadataValue.path(str(self.root_path))}

    @property
    def root_path(self) -> UPath:
        """The data root: a local folder (a `pathlib.Path` as well) or a folder of an fsspec
        store; every path below is a UPath of the same kind."""
        return as_data_path(self.root)

    @property
    def on_object_store(self) -> bool:
        return is_remote(self.root_path)

    @property
    def sources(self) -> UPath:
        return self.root_path / "sources"

    @property
    def tables(self) -> UPath:
        """`lake/`: one folder per asset, one Parquet file per partition."""
        return self.root_path / "lake"

    @property
    def releases(self) -> UPath:
        return self.root_path / "releases"

    @property
    def index_path(self) -> UPath:
        """The duplicate index's DuckDB file (dedupe/index.py)."""
        return self.tables / INDEX_FOLDER / "index.duckdb"

    @property
    def spool_folder(self) -> Path:
        """Where a step writes its table batch by batch (batches.py): inside a local lake, so
        that the finished table is renamed into place, never copied; on an object store, the
        worker's own scratch disk (the finished table is uploaded in one put)."""
        if self.on_object_store:
            return Path(tempfile.gettempdir()) / "commons" / SPOOL_FOLDER
        return local(self.tables / SPOOL_FOLDER)

    def table_path(self, asset: str, partition: str = UNPARTITIONED) -> UPath:
        """Where the IO manager (storage.py) keeps an asset partition's table."""
        return self.tables / asset / f"{partition}.parquet"

    def quarantine_path(self, asset: str, partition: str) -> UPath:
        return self.tables / QUARANTINE_FOLDER / asset / f"{partition}.parquet"

    def dropped_path(self, asset: str, partition: str) -> UPath:
        return self.tables / DROPPED_FOLDER / asset / f"{partition}.parquet"

    def not_carried_path(self, asset: str, partition: str) -> UPath:
        return self.tables / NOT_CARRIED_FOLDER / asset / f"{partition}.parquet"

    def side_tables(self, folder: str) -> list[UPath]:
        """Every partition file of a side folder (QUARANTINE_FOLDER, DROPPED_FOLDER,
        NOT_CARRIED_FOLDER), across assets."""
        return sorted((self.tables / folder).glob("*/*.parquet"))

    def tables_of(self, asset_prefix: str) -> list[UPath]:
        """Every partition file of the assets whose name starts with `asset_prefix`, whether
        its partition still exists or not (what `commons trace` searches)."""
        return sorted(self.tables.glob(f"{asset_prefix}*/*.parquet"))

    def current_tables(
        self,
        asset: str,
        partitions: dg.PartitionsDefinition | None,
        instance: dg.DagsterInstance,
    ) -> dict[str, UPath]:
        """partition -> table, for the partitions of `asset` that exist now and were
        materialized: a stage that needs every partition reads these (a source removed from
        disk drops out with its partition)."""
        if partitions is None:
            path = self.table_path(asset, UNPARTITIONED)
            return {UNPARTITIONED: path} if path.exists() else {}
        keys = partitions.get_partition_keys(dynamic_partitions_store=instance)
        return {key: path for key in keys if (path := self.table_path(asset, key)).exists()}

    def write_quarantine(self, asset: str, partition: str, frame: SideTable) -> UPath:
        return store_table(frame, self.quarantine_path(asset, partition))

    def write_dropped(self, asset: str, partition: str, frame: SideTable) -> UPath:
        return store_table(frame, self.dropped_path(asset, partition))

    def write_not_carried(self, asset: str, partition: str, frame: SideTable) -> UPath:
        return store_table(frame, self.not_carried_path(asset, partition))

    def relative(self, path: UPath) -> str:
        """A path as shown to users and stored in provenance: relative to the data root."""
        try:
            return UPath(path).relative_to(self.root_path).as_posix()
        except ValueError:
            return path.as_posix()


def is_remote(path: UPath | Path) -> bool:
    """Whether `path` lies on an fsspec store rather than a local file system (where files are
    written beside their target and renamed into place)."""
    return isinstance(path, UPath) and path.protocol not in ("", "file", "local")


def local(path: UPath | Path) -> Path:
    """A path of a local file system as a `pathlib.Path` (for os, tempfile and the libraries
    that take only local paths)."""
    if is_remote(path):
        raise ValueError(f"{path} is not on a local file system")
    return Path(path.path) if isinstance(path, UPath) else path


# A temporary file older than this was left by a killed run (a write takes seconds): removed by
# the next write of the same file. Younger ones may belong to a concurrent run and stay.
STALE_TEMPORARY_SECONDS = 3600


def remove_stale_temporaries(path: Path, now: float | None = None) -> list[Path]:
    """Remove what killed runs left beside `path` (`.<name>.*.tmp` older than an hour)."""
    now = time.time() if now is None else now
    removed = []
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or being renamed by another run
            if now - leftover.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                leftover.unlink()
                removed.append(leftover)
    return removed


def store_table(table: SideTable, path: UPath) -> UPath:
    """A frame written atomically, or a table spooled batch by batch moved into place: renamed
    in a local lake (the spool is on the same file system), uploaded to an object store (one
    put, atomic: a reader sees the whole file or none)."""
    if isinstance(table, pl.DataFrame):
        return write_parquet_atomic(table, path)
    if is_remote(path):
        path.fs.put_file(str(table.path), path.path)
        table.path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(table.path, local(path))
    return path


def write_parquet_atomic(frame: pl.DataFrame, path: UPath) -> UPath:
    """Write to a temporary file in the target folder, then rename into place: a killed run never
    leaves a half-written file where a later step could read it. On an object store a put is
    atomic already."""
    if is_remote(path):
        write_parquet(frame, path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(local(path))
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=local(path.parent)
    )
    os.close(handle)
    try:
        # Statistics and a fixed compression keep files byte-identical for identical frames.
        frame.write_parquet(temporary, compression="zstd", statistics=True)
        os.replace(temporary, local(path))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_table(
    path: UPath, columns: list[str] | None = None, n_rows: int | None = None
) -> pl.DataFrame:
    """A Parquet table of the lake, whole or a few columns/rows, from a local folder or through
    fsspec (Polars reads only the stores its own object_store client knows, configured
    differently from fsspec's)."""
    if not is_remote(path):
        return pl.read_parquet(local(path), columns=columns, n_rows=n_rows)
    with path.open("rb") as handle:
        return pl.read_parquet(handle, columns=columns, n_rows=n_rows)


def scan_table(path: UPath) -> pl.LazyFrame:
    """A lazy Parquet table: scanned in place when local; read whole through fsspec on an
    object store (callers that need bounded memory read a `StoredTable` instead)."""
    return pl.scan_parquet(local(path)) if not is_remote(path) else read_table(path).lazy()


def remove_tree(path: UPath) -> None:
    """A folder and everything in it, if it exists."""
    if is_remote(path):
        if path.exists():
            path.fs.rm(path.path, recursive=True)
    else:
        shutil.rmtree(local(path), ignore_errors=True)


def move_folder(source: UPath, target: UPath) -> None:
    """A folder moved to a name that must not exist yet: one rename on a local file system
    (atomic; fails if `target` exists); on an object store a copy of each object and a delete
    (readers never see `target` before it is named in a pointer: releases' LATEST)."""
    if not is_remote(target):
        os.rename(local(source), local(target))
        return
    if target.exists():
        raise FileExistsError(str(target))
    target.fs.mv(source.path, target.path, recursive=True)


def replace_text(path: UPath, text: str) -> None:
    """A small text file (a pointer) replaced atomically: readers see the old text or the new."""
    if is_remote(path):
        path.write_text(text)  # a put is atomic
        return
    temporary = path.parent / f".{path.name}.tmp"
    temporary.write_text(text)
    os.replace(local(temporary), local(path))


def write_parquet(frame: pl.DataFrame | pl.LazyFrame, path: UPath, **options: Any) -> None:
    """A frame as a Parquet file where the lake is (zstd and statistics unless told otherwise:
    byte-identical files for identical frames), in place: callers that need atomicity on a
    local file system write elsewhere and rename (write_parquet_atomic). A lazy frame is
    streamed (`sink_parquet`: the same bytes as its collected rows), never held whole."""
    options = {"compression": "zstd", "statistics": True, **options}
    write = frame.sink_parquet if isinstance(frame, pl.LazyFrame) else frame.write_parquet
    if not is_remote(path):
        write(local(path), **options)
        return
    with path.open("wb") as handle:
        write(handle, **options)
