"""The lake: one immutable Parquet file per asset partition, written atomically (DESIGN.md §2).

Every path goes through `Lake`, so the same asset code can later run against an object store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from commons_assets.settings import data_root

QUARANTINE_FOLDER = "_quarantine"  # bad input: unreadable records, files, images
DROPPED_FOLDER = "_dropped"  # readable records a filter dropped, with the reason
NOT_CARRIED_FOLDER = "_not_carried"  # records a reader deliberately left out, with the reason


class Lake(dg.ConfigurableResource):
    """Data root of a Commons deployment: `sources/` in, `lake/` and `releases/` out."""

    root: str = Field(
        default_factory=lambda: str(data_root()),
        description="Data root (the COMMONS_DATA environment variable, default ./data).",
    )

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

    def table_path(self, asset: str, partition: str) -> Path:
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
            path = self.table_path(asset, "all")
            return {"all": path} if path.exists() else {}
        keys = partitions.get_partition_keys(dynamic_partitions_store=instance)
        return {key: path for key in keys if (path := self.table_path(asset, key)).exists()}

    def scan_current(
        self,
        asset: str,
        partitions: dg.PartitionsDefinition | None,
        instance: dg.DagsterInstance,
    ) -> dict[str, pl.LazyFrame]:
        """partition -> lazy table, for every current partition of `asset`."""
        return {
            key: pl.scan_parquet(path)
            for key, path in self.current_tables(asset, partitions, instance).items()
        }

    def write_table(self, asset: str, partition: str, frame: pl.DataFrame) -> Path:
        return write_parquet_atomic(frame, self.table_path(asset, partition))

    def write_quarantine(self, asset: str, partition: str, frame: pl.DataFrame) -> Path:
        return write_parquet_atomic(frame, self.quarantine_path(asset, partition))

    def write_dropped(self, asset: str, partition: str, frame: pl.DataFrame) -> Path:
        return write_parquet_atomic(frame, self.dropped_path(asset, partition))

    def write_not_carried(self, asset: str, partition: str, frame: pl.DataFrame) -> Path:
        return write_parquet_atomic(frame, self.not_carried_path(asset, partition))

    def read_table(self, asset: str, partition: str) -> pl.DataFrame:
        return pl.read_parquet(self.table_path(asset, partition))

    def read_upstream(self, asset: str, partition: str) -> pl.DataFrame:
        """An upstream partition's table; a clear failure when it was never materialized."""
        path = self.table_path(asset, partition)
        if not path.exists():
            raise dg.Failure(
                description=f"{asset}[{partition}] has not been materialized yet; materialize "
                "it first (or select the upstream assets too).",
                allow_retries=False,  # waiting will not make it appear
            )
        return pl.read_parquet(path)

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
