"""The persisted duplicate index: pairs found once, stale entries removed, and a second writer
waiting for the database lock instead of failing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from commons_assets.dedupe.index import clusters, confirmed_pairs, connect, update_index
from commons_assets.dedupe.minhash import band_keys, text_signatures
from commons_tests.dedupe.test_minhash import document, edited

INDEX = "index.duckdb"


def signature_file(path: Path, texts: dict[str, str]) -> Path:
    signatures = text_signatures(list(texts.values()))
    pl.DataFrame(
        {
            "id": list(texts),
            "source_kind": "texts",
            "source_partition": path.stem,
            "sha256": None,
            "signature": pl.Series(signatures.tolist(), dtype=pl.List(pl.UInt32)),
            "band_keys": pl.Series(band_keys(signatures).tolist(), dtype=pl.List(pl.UInt64)),
        }
    ).write_parquet(path)
    return path


def test_pairs_are_found_once_and_leave_with_their_partition(tmp_path: Path) -> None:
    base = document(3)
    first = signature_file(tmp_path / "p1.parquet", {"a": base, "b": document(4)})
    update = update_index(tmp_path / INDEX, {"p1": first})
    assert confirmed_pairs(tmp_path / INDEX).height == 0 and update.records_indexed == 2
    second = signature_file(tmp_path / "p2.parquet", {"a-copy": edited(base, 2)})
    update = update_index(tmp_path / INDEX, {"p1": first, "p2": second})
    assert update.added == ["p2"] and update.rows_read_in_full == 1
    assert update.lookup_rows == 1  # only "a" shares a bucket with the new row
    edges = confirmed_pairs(tmp_path / INDEX)
    assert edges.select("first_id", "second_id", "match").rows() == [("a", "a-copy", "near")]
    table = clusters(tmp_path / INDEX, tmp_path / "clusters.parquet")
    assert pl.read_parquet(table.path)["record_id"].to_list() == ["a", "a-copy"]
    update = update_index(tmp_path / INDEX, {"p1": first, "p2": second})
    assert update.added == [] and update.new_pairs == 0
    assert confirmed_pairs(tmp_path / INDEX).height == 1
    update = update_index(tmp_path / INDEX, {"p2": second})
    assert update.removed == ["p1"] and update.records_indexed == 1
    assert confirmed_pairs(tmp_path / INDEX).height == 0


def test_a_second_writer_waits_for_the_index_lock(tmp_path: Path) -> None:
    path = signature_file(tmp_path / "p1.parquet", {"a": document(1)})
    update_index(tmp_path / INDEX, {"p1": path})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', "
            "flush=True); time.sleep(2); c.close()",
            str(tmp_path / INDEX),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        update = update_index(tmp_path / INDEX, {"p1": path})
        assert time.monotonic() - started > 0.5  # it waited for the other process
        assert update.records_indexed == 1 and update.new_pairs == 0
    finally:
        holder.kill()
        holder.wait()


def test_the_index_works_within_its_memory_limit(tmp_path: Path) -> None:
    update_index(tmp_path / INDEX, {})
    for read_only in (False, True):
        with connect(tmp_path / INDEX, read_only, memory_bytes=200 * 2**20) as connection:
            [(limit,)] = connection.sql("SELECT current_setting('memory_limit')").fetchall()
            assert limit == "200.0 MiB"
