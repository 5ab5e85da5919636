"""Partitions in bounded batches (batches.py): a step holds one batch at a time, every table is
written in row groups of at most one batch, and the release does not depend on the batch size.
Each test uses input larger than the bound it checks."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow.parquet as pq
import pytest
from upath import UPath

from commons_assets.batches import (
    MIB,
    SPOOL_PREFIX,
    SPOOL_SUFFIX,
    BatchSize,
    StoredTable,
    TableSpool,
)
from commons_assets.build import build
from commons_assets.lake import STALE_TEMPORARY_SECONDS, Lake
from commons_assets.records import RECORD_SCHEMA, PartitionRead
from commons_assets.sources.limits import LimitsError, load_limits
from commons_assets.sources.warc import read_warc
from commons_tests.builders import page, warc_record_bytes
from commons_tests.conftest import copy_sample
from commons_tests.publish.test_sample_manifest import GOLDEN, released_files

SCHEMA = {"id": pl.String, "text": pl.String}


def row_groups(path: Path) -> list[int]:
    metadata = pq.ParquetFile(path).metadata
    return [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]


def test_rows_added_one_by_one_are_written_in_batches_of_at_most_the_row_bound(
    tmp_path: Path,
) -> None:
    with TableSpool(SCHEMA, tmp_path, BatchSize(rows=3)) as spool:
        for i in range(10):
            spool.add({"id": str(i), "text": "x"})
        table = spool.finish()
    assert table.rows == 10
    assert row_groups(table.path) == [3, 3, 3, 1]
    assert pl.read_parquet(table.path)["id"].to_list() == [str(i) for i in range(10)]


def test_a_batch_ends_at_the_byte_bound_whatever_the_row_bound(tmp_path: Path) -> None:
    text = "y" * (256 * 1024)  # 40 rows of 256 KiB: 10 MiB, ten times the bound
    with TableSpool(SCHEMA, tmp_path, BatchSize(rows=1000, bytes=MIB)) as spool:
        for i in range(40):
            spool.add({"id": str(i), "text": text})
        table = spool.finish()
    groups = row_groups(table.path)
    assert sum(groups) == 40
    assert max(groups) <= 4  # 4 x 256 KiB reaches 1 MiB


def test_an_empty_spool_is_a_table_with_its_columns(tmp_path: Path) -> None:
    table = TableSpool(SCHEMA, tmp_path).finish()
    assert table.rows == 0
    assert pl.read_parquet(table.path).schema == pl.Schema(SCHEMA)


def test_a_failed_step_leaves_no_spool_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), TableSpool(SCHEMA, tmp_path, BatchSize(rows=1)) as spool:
        spool.add({"id": "1", "text": "a"})
        spool.add({"id": "2", "text": "b"})
        raise RuntimeError("the step failed")
    assert not list(tmp_path.iterdir())


def test_stored_tables_are_read_a_row_group_at_a_time_in_order(tmp_path: Path) -> None:
    with TableSpool(SCHEMA, tmp_path, BatchSize(rows=4)) as spool:
        for i in range(10):
            spool.add({"id": str(i), "text": "t"})
        table = spool.finish()
    stored = StoredTable(UPath(table.path))
    sizes = [batch.height for batch in stored.batches(BatchSize(rows=3))]
    assert sizes == [3, 1, 3, 1, 2]  # never across a row group, never above the bound
    read = pl.concat(stored.batches(BatchSize(rows=3)))["id"].to_list()
    assert read == [str(i) for i in range(10)]
    assert stored.height == 10


def test_stored_tables_are_read_in_batches_from_an_fsspec_store(tmp_path: Path) -> None:
    with TableSpool(SCHEMA, tmp_path, BatchSize(rows=2)) as spool:
        for i in range(5):
            spool.add({"id": str(i), "text": "t"})
        table = spool.finish()
    remote = UPath("memory://lake/stored/p.parquet")
    remote.fs.put_file(str(table.path), remote.path)
    stored = StoredTable(remote)
    assert [b.height for b in stored.batches(BatchSize(rows=2))] == [2, 2, 1]
    assert stored.select("id")["id"].to_list() == ["0", "1", "2", "3", "4"]


def test_a_whole_file_gzip_warc_read_again_is_not_spooled_twice(tmp_path: Path) -> None:
    """warcio notices a one-stream gzip only after its first record: the reader starts over,
    and what it had spooled goes."""
    plain = b"".join(
        warc_record_bytes(f"https://a.example/{i}", page(f"P{i}", f"B{i}"), number=i, gzip=False)
        for i in range(1, 6)
    )
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(plain))
    with TableSpool(RECORD_SCHEMA, tmp_path / "spool", BatchSize(rows=1)) as spool:
        read = read_warc(
            path, "p", "whole.warc.gz", result=PartitionRead("archives", "p", spool=spool)
        )
        table = spool.finish()
    ids = pl.read_parquet(table.path)["source_id"].to_list()
    assert ids == [f"https://a.example/{i}" for i in range(1, 6)]
    assert read.kept == 5 and read.outcomes()[0] == ("kept", "", 5)


def test_the_batch_size_is_a_setting_that_refuses_nonsense(tmp_path: Path) -> None:
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "sources.toml").write_text("[limits]\nbatch_rows = 7\n")
    assert load_limits(tmp_path).batch == BatchSize(rows=7, bytes=64 * MIB)
    (tmp_path / "policy" / "sources.toml").write_text("[limits]\nbatch_bytes = 10\n")
    with pytest.raises(LimitsError, match="batch_bytes"):
        load_limits(tmp_path)


def test_batches_of_one_record_publish_the_golden_sample_release_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every partition of the sample is larger than one record: each per-partition step reads,
    processes and writes it one record at a time, and the release is the same bytes."""
    from commons_assets.definitions import defs

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = copy_sample(tmp_path / "data")
    settings = root / "policy" / "sources.toml"
    settings.write_text(settings.read_text().replace("batch_rows = 5000", "batch_rows = 1"))
    lake = Lake(root=str(root))
    with dg.DagsterInstance.ephemeral() as instance:
        assert build(defs, lake, instance, echo=lambda _: None)
    assert released_files(lake) == json.loads(GOLDEN.read_text())
    chain = ("archive_pages", "clean_pages", "rights_pages", "signatures_pages")
    for asset in (*chain, "corpus_texts", "clean_texts", "rights_texts", "_dropped/clean_pages"):
        tables = sorted((lake.tables / asset).glob("*.parquet"))
        assert tables, asset
        for path in tables:
            assert set(row_groups(path)) <= {0, 1}, path
    assert sum(pl.read_parquet(p).height for p in (lake.tables / "clean_pages").glob("*")) > 1
    assert not list(lake.spool_folder.glob("*"))  # every spool moved into place


def test_a_killed_runs_spool_is_removed_by_a_later_step_and_a_running_ones_kept(
    tmp_path: Path,
) -> None:
    """A step killed mid-write leaves its spool; the next spool in the folder removes it once it
    is older than any write could take, and leaves a younger one (a step running now)."""
    killed = tmp_path / f"{SPOOL_PREFIX}killed{SPOOL_SUFFIX}"
    running = tmp_path / f"{SPOOL_PREFIX}running{SPOOL_SUFFIX}"
    for path in (killed, running):
        path.write_bytes(b"PAR1 half a table")
    old = time.time() - STALE_TEMPORARY_SECONDS - 60
    os.utime(killed, (old, old))
    TableSpool(SCHEMA, tmp_path).discard()
    assert not killed.exists() and running.exists()
