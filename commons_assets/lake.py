"""The lake: one immutable Parquet file per asset partition, written atomically (DESIGN.md §2).

Every path goes through `Lake`, so the same asset code can later run against an object store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import dagster as dg
import polars as pl
from pydantic import Field

from commons_assets.settings import data_root

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


def claim_data_root(instance: dg.DagsterInstance, root: Path) -> None:
    """Record `root` as the instance's data root, or refuse when it serves another one: two
    roots in one instance would share dynamic partitions, check results and release history
    (the UI would show one root's release under the other's name)."""
    resolved = str(root.expanduser().resolve())
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
        description="Data root (the COMMONS_DATA environment variable, default ./data).",
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
        return {"data_root": dg.MetadataValue.path(str(self.root_path.resolve()))}

    @property
    def root_path(self) -> Path:
        return Path(self.root)

    @property
    def sources(self) -> Path:
        return self.root_path / "sources"

    @property
    def tables(self) -> Path:
        """`lake/`: one folder per asset, one Parquet file per partition."""
        return self.root_path / "lake"

    @property
    def releases(self) -> Path:
        return self.root_path / "releases"

    @property
    def index_path(self) -> Path:
        """The duplicate index's DuckDB file (dedupe/index.py)."""
        return self.tables / INDEX_FOLDER / "index.duckdb"

    @property
    def spool_folder(self) -> Path:
        """Where a step writes its table batch by batch (batches.py): inside the lake, so that
        the finished table is renamed into place, never copied."""
        return self.tables / SPOOL_FOLDER

    def table_path(self, asset: str, partition: str = UNPARTITIONED) -> Path:
        """Where the IO manager (storage.py) keeps an asset partition's table."""
        return self.tables / asset / f"{partition}.parquet"

    def quarantine_path(self, asset: str, partition: str) -> Path:
        return self.tables / QUARANTINE_FOLDER / asset / f"{partition}.parquet"

    def dropped_path(self, asset: str, partition: str) -> Path:
        return self.tables / DROPPED_FOLDER / asset / f"{partition}.parquet"

    def not_carried_path(self, asset: str, partition: str) -> Path:
        return self.tables / NOT_CARRIED_FOLDER / asset / f"{partition}.parquet"

    def side_tables(self, folder: str) -> list[Path]:
        """Every partition file of a side folder (QUARANTINE_FOLDER, DROPPED_FOLDER,
        NOT_CARRIED_FOLDER), across assets."""
        return sorted((self.tables / folder).glob("*/*.parquet"))

    def tables_of(self, asset_prefix: str) -> list[Path]:
        """Every partition file of the assets whose name starts with `asset_prefix`, whether
        its partition still exists or not (what `commons trace` searches)."""
        return sorted(self.tables.glob(f"{asset_prefix}*/*.parquet"))

    def current_tables(
        self,
        asset: str,
        partitions: dg.PartitionsDefinition | None,
        instance: dg.DagsterInstance,
    ) -> dict[str, Path]:
        """partition -> table, for the partitions of `asset` that exist now and were
        materialized: a stage that needs every partition reads these (a source removed from
        disk drops out with its partition)."""
        if partitions is None:
            path = self.table_path(asset, UNPARTITIONED)
            return {UNPARTITIONED: path} if path.exists() else {}
        keys = partitions.get_partition_keys(dynamic_partitions_store=instance)
        return {key: path for key in keys if (path := self.table_path(asset, key)).exists()}

    def write_quarantine(self, asset: str, partition: str, frame: SideTable) -> Path:
        return store_table(frame, self.quarantine_path(asset, partition))

    def write_dropped(self, asset: str, partition: str, frame: SideTable) -> Path:
        return store_table(frame, self.dropped_path(asset, partition))

    def write_not_carried(self, asset: str, partition: str, frame: SideTable) -> Path:
        return store_table(frame, self.not_carried_path(asset, partition))

    def relative(self, path: Path) -> str:
        """A path as shown to users and stored in provenance: relative to the data root."""
        try:
            return path.relative_to(self.root_path).as_posix()
        except ValueError:
            return path.as_posix()


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


def store_table(table: SideTable, path: Path) -> Path:
    """A frame written atomically, or a table spooled batch by batch (in the lake's spool
    folder, on the same file system) renamed into place."""
    if isinstance(table, pl.DataFrame):
        return write_parquet_atomic(table, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(table.path, path)
    return path


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> Path:
    """Write to a temporary file in the target folder, then rename into place: a killed run never
    leaves a half-written file where a later step could read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        # Statistics and a fixed compression keep files byte-identical for identical frames.
        frame.write_parquet(temporary, compression="zstd", statistics=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
