"""The lake's IO manager: where each asset's table goes, what each input receives (a partition,
or every current partition as lazy frames), the failure for a missing partition, and the same
code over an object store (fsspec's memory filesystem)."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster._core.types.dagster_type import resolve_dagster_type  # not exported
from upath import UPath

from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_assets.storage import LakeTables, every_partition

PARTITIONS = dg.DynamicPartitionsDefinition(name="shelves")


@dg.asset(partitions_def=PARTITIONS)
def books(context: dg.AssetExecutionContext) -> pl.DataFrame:
    return pl.DataFrame(
        {"shelf": [context.partition_key], "title": [f"on {context.partition_key}"]}
    )


@dg.asset(partitions_def=PARTITIONS, ins={"shelf": dg.AssetIn(books.key)})
def titles(shelf: pl.DataFrame) -> pl.DataFrame:
    return shelf.select(pl.col("title").str.to_uppercase())


@dg.asset(ins={"shelves": every_partition(books)})
def catalogue(shelves: dict[str, pl.LazyFrame]) -> pl.DataFrame:
    assert all(isinstance(frame, pl.LazyFrame) for frame in shelves.values())
    frames = [frame.collect() for frame in shelves.values()]
    return pl.concat(frames).sort("shelf") if frames else pl.DataFrame(schema={"shelf": pl.String})


@dg.asset(ins={"catalogue": dg.AssetIn(catalogue.key)})
def shelf_count(catalogue: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame({"shelves": [catalogue.height]})


def _instance_with(keys: list[str]) -> dg.DagsterInstance:
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("shelves", keys)
    return instance


def test_each_partition_is_a_parquet_file_of_the_asset_folder(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path))
    instance = _instance_with(["a", "b"])
    for key in ("a", "b"):
        result = dg.materialize(
            [books, titles], partition_key=key, resources=resources_for(lake), instance=instance
        )
        assert result.success
    assert lake.table_path("books", "a") == tmp_path / "lake/books/a.parquet"
    assert pl.read_parquet(lake.table_path("books", "a"))["title"].to_list() == ["on a"]
    assert pl.read_parquet(tmp_path / "lake/titles/b.parquet")["title"].to_list() == ["ON B"]
    materialization = result.asset_materializations_for_node("titles")[0]
    assert materialization.metadata["path"].value == "lake/titles/b.parquet"
    assert materialization.metadata["data_root"].value == str(tmp_path.resolve())


def test_an_all_partition_input_gets_lazy_frames_of_the_materialized_partitions(
    tmp_path: Path,
) -> None:
    lake = Lake(root=str(tmp_path))
    instance = _instance_with(["a", "b", "never-read"])
    for key in ("a", "b"):
        dg.materialize([books], partition_key=key, resources=resources_for(lake), instance=instance)
    result = dg.materialize(
        [books.to_source_asset(), catalogue, shelf_count],
        resources=resources_for(lake),
        instance=instance,
    )
    assert result.success
    assert lake.table_path("catalogue") == tmp_path / "lake/catalogue/all.parquet"
    assert pl.read_parquet(lake.table_path("catalogue"))["shelf"].to_list() == ["a", "b"]
    assert pl.read_parquet(tmp_path / "lake/shelf_count/all.parquet")["shelves"].item() == 2


@pytest.mark.parametrize("materialized", [[], ["a"]])
def test_an_all_partition_input_of_one_partition_is_still_a_mapping(
    tmp_path: Path, materialized: list[str]
) -> None:
    lake = Lake(root=str(tmp_path))
    instance = _instance_with(["a"])
    for key in materialized:
        dg.materialize([books], partition_key=key, resources=resources_for(lake), instance=instance)
    result = dg.materialize(
        [books.to_source_asset(), catalogue], resources=resources_for(lake), instance=instance
    )
    assert result.success
    assert pl.read_parquet(tmp_path / "lake/catalogue/all.parquet").height == len(materialized)


def test_an_all_partition_input_with_no_partition_gets_an_empty_mapping(tmp_path: Path) -> None:
    result = dg.materialize(
        [books.to_source_asset(), catalogue],
        resources=resources_for(Lake(root=str(tmp_path))),
        instance=_instance_with([]),
    )
    assert result.success
    assert pl.read_parquet(tmp_path / "lake/catalogue/all.parquet").height == 0


def test_a_missing_upstream_partition_fails_the_step_without_retrying(tmp_path: Path) -> None:
    instance = _instance_with(["a"])
    result = dg.materialize(
        [books.to_source_asset(), titles],
        partition_key="a",
        resources=resources_for(Lake(root=str(tmp_path))),
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    failure = result.failure_data_for_node("titles")
    assert failure is not None
    assert "books[a] has not been materialized yet" in str(failure.user_failure_data)
    assert not (tmp_path / "lake/titles").exists()


def test_the_same_tables_go_to_an_object_store() -> None:
    pytest.importorskip("fsspec.implementations.memory")
    tables = LakeTables(Lake(root="/nowhere"), base_path=UPath("memory://commons-test/lake"))
    frame = pl.DataFrame({"id": ["x", "y"]})
    output = dg.build_output_context(asset_key=dg.AssetKey("books"), partition_key="2026-12-03")
    tables.handle_output(output, frame)
    stored = UPath("memory://commons-test/lake/books/2026-12-03.parquet")
    assert stored.exists()
    for wanted in (pl.DataFrame, pl.LazyFrame):
        context = dg.build_input_context(
            asset_key=dg.AssetKey("books"),
            partition_key="2026-12-03",
            dagster_type=resolve_dagster_type(wanted),
        )
        loaded = tables.load_input(context)
        assert isinstance(loaded, wanted)
        assert pl.DataFrame(loaded.lazy().collect()).equals(frame)


def test_a_partition_key_cannot_lead_out_of_the_lake(tmp_path: Path) -> None:
    tables = LakeTables(Lake(root=str(tmp_path)))
    path = tables.make_safe_partition_path(UPath(tmp_path / "lake" / "books"), "../../escape")
    assert Path(path).resolve().is_relative_to((tmp_path / "lake" / "books").resolve())
