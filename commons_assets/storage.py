"""Storage through Dagster: the IO manager that keeps every asset's table in the lake.

An asset returns its table (a Polars frame) and declares its upstream tables as inputs; this IO
manager writes `lake/<asset>/<partition>.parquet` (`all.parquet` when unpartitioned) and loads
them back. A step that needs every current partition of an upstream asset gets a mapping of
partition -> LazyFrame: nothing is read until it is collected, and a partition not materialized
yet is left out. Dagster's `UPathIOManager` does the partition bookkeeping; paths are UPaths, so
the same code writes to a local folder or an fsspec object store (`s3://…`, `memory://…`).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import dagster as dg
import polars as pl
from dagster._core.storage.upath_io_manager import escape_dotdot_segments  # not re-exported
from upath import UPath

from commons_assets.batches import SpooledTable, StoredTable
from commons_assets.lake import UNPARTITIONED, Lake, read_table, scan_table, store_table

# Input metadata of a stage that reads every current partition of an upstream asset: a
# partition that was never materialized (a new file not yet read) is left out rather than
# failing the step, and each partition comes as a LazyFrame whatever the annotation (inputs
# passed as **kwargs have none): nothing is read until the step collects it.
EVERY = "commons/every_partition"
EVERY_CURRENT_PARTITION = {"allow_missing_partitions": True, EVERY: True}


# Input metadata of a step that reads its upstream partition a batch at a time (a StoredTable),
# for inputs passed as **kwargs (which carry no annotation to say so).
BATCHES = "commons/batches"


def batched(asset: dg.AssetsDefinition | dg.AssetKey) -> dg.AssetIn:
    """An input of one upstream partition, as a `StoredTable` read a batch at a time."""
    key = asset if isinstance(asset, dg.AssetKey) else asset.key
    return dg.AssetIn(key=key, metadata={BATCHES: True})


# Input metadata of an input a step can do without (None when never materialized).
OPTIONAL = "commons/optional"


def optional(key: dg.AssetKey) -> dg.AssetIn:
    """An input that is None until its asset is first materialized."""
    return dg.AssetIn(key=key, metadata={OPTIONAL: True})


def every_partition(asset: dg.AssetsDefinition | dg.AssetKey, batched: bool = False) -> dg.AssetIn:
    """An input of every current partition of `asset`, as partition -> LazyFrame (or, batched,
    partition -> `StoredTable`, read a batch or a few columns at a time on any store)."""
    key = asset if isinstance(asset, dg.AssetKey) else asset.key
    metadata = {**EVERY_CURRENT_PARTITION, **({BATCHES: True} if batched else {})}
    return dg.AssetIn(key=key, metadata=metadata)


def _every_partition(context: dg.InputContext) -> bool:
    return bool((context.definition_metadata or {}).get(EVERY))


def _wants_stored(context: dg.InputContext) -> bool:
    if (context.definition_metadata or {}).get(BATCHES):
        return True
    return context.dagster_type.typing_type is StoredTable


def _wants_lazy(context: dg.InputContext) -> bool:
    """Whether the input is declared lazy, or annotated as a LazyFrame (or a mapping of them)."""
    if _every_partition(context):
        return True
    wanted: Any = context.dagster_type.typing_type
    if typing.get_origin(wanted) in (dict, Mapping):
        wanted = typing.get_args(wanted)[-1]
    return wanted is pl.LazyFrame


class LakeTables(dg.UPathIOManager):
    """Every asset table of one lake, as Parquet (zstd, with statistics: byte-identical files
    for identical frames)."""

    extension = ".parquet"

    def __init__(self, lake: Lake, base_path: UPath | None = None):
        super().__init__(base_path=base_path or UPath(lake.tables))
        self._lake = lake

    def make_safe_partition_path(self, base_path: UPath, partition: str) -> UPath:
        # A partition key is a file or folder name under sources/: never a way out of the lake.
        return base_path / escape_dotdot_segments(partition.lstrip("/"))

    def get_asset_relative_path(self, context: dg.InputContext | dg.OutputContext) -> UPath:
        path = UPath(*context.asset_key.path)
        return path if context.has_asset_partitions else path / UNPARTITIONED

    def dump_to_path(
        self, context: dg.OutputContext, obj: pl.DataFrame | SpooledTable, path: UPath
    ) -> None:
        store_table(obj, path)

    def load_from_path(
        self, context: dg.InputContext, path: UPath
    ) -> pl.DataFrame | pl.LazyFrame | StoredTable:
        if not path.exists():
            raise FileNotFoundError(str(path))
        if _wants_stored(context):  # read a batch at a time by the step
            return StoredTable(path)
        return scan_table(path) if _wants_lazy(context) else read_table(path)

    def load_input(self, context: dg.InputContext) -> Any:
        if context.has_asset_partitions and not context.asset_partition_keys:
            return {}  # no partition yet: an empty mapping, not None
        try:
            loaded = super().load_input(context)
        except FileNotFoundError as error:
            if (context.definition_metadata or {}).get(OPTIONAL):
                return None
            what = context.asset_key.to_user_string()
            if context.has_asset_partitions and len(context.asset_partition_keys) == 1:
                what += f"[{context.asset_partition_keys[0]}]"
            raise dg.Failure(
                description=f"{what} has not been materialized yet; materialize it first (or "
                "select the upstream assets too).",
                allow_retries=False,  # waiting will not make it appear
            ) from error
        if _every_partition(context) and not isinstance(loaded, dict):
            # Dagster hands over a lone partition as itself: still a mapping here.
            (key,) = context.asset_partition_keys
            return {} if loaded is None else {key: loaded}
        return loaded

    def get_metadata(self, context: dg.OutputContext, obj: Any) -> dict[str, Any]:
        path = self._path_of(context)
        shown = self._lake.relative(path) if not path.protocol else str(path)
        return {"path": dg.MetadataValue.path(shown), **self._lake.root_metadata}

    def _path_of(self, context: dg.OutputContext) -> UPath:
        if context.has_asset_partitions:
            return next(iter(self._get_paths_for_partitions(context).values()))
        return self._get_path(context)


class LakeIOManager(dg.ConfigurableIOManagerFactory):
    """The lake's tables through Dagster: each asset returns its table, each input is loaded
    from the lake (a partition, or every current partition as lazy frames)."""

    lake: Lake

    def create_io_manager(self, context: dg.InitResourceContext) -> LakeTables:
        return LakeTables(self.lake)
