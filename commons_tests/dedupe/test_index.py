"""The persisted duplicate index: pairs found once, stale entries removed, copies of a text
grouped by content instead of paired, an index of an earlier layout built again, and a second
writer waiting for the database lock instead of failing."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import polars as pl

from commons_assets.dedupe.index import (
    SignatureTable,
    clusters,
    connect,
    content_pairs,
    update_index,
)
from commons_assets.dedupe.minhash import band_keys, text_signatures
from commons_assets.records import sha256_hex
from commons_tests.dedupe.test_minhash import document, edited

INDEX = "index.duckdb"


def signature_file(path: Path, texts: dict[str, str], hashed: bool = False) -> Path:
    signatures = text_signatures(list(texts.values()))
    pl.DataFrame(
        {
            "id": list(texts),
            "source_kind": "texts",
            "source_partition": path.stem,
            "sha256": [sha256_hex(text) for text in texts.values()] if hashed else None,
            "signature": pl.Series(signatures.tolist(), dtype=pl.List(pl.UInt32)),
            "band_keys": pl.Series(band_keys(signatures).tolist(), dtype=pl.List(pl.UInt64)),
        }
    ).write_parquet(path)
    return path


def test_pairs_are_found_once_and_leave_with_their_partition(tmp_path: Path) -> None:
    base = document(3)
    first = signature_file(tmp_path / "p1.parquet", {"a": base, "b": document(4)})
    update = update_index(tmp_path / INDEX, {"p1": first})
    assert content_pairs(tmp_path / INDEX).height == 0 and update.records_indexed == 2
    second = signature_file(tmp_path / "p2.parquet", {"a-copy": edited(base, 2)})
    update = update_index(tmp_path / INDEX, {"p1": first, "p2": second})
    assert update.added == ["p2"] and update.rows_read_in_full == 1
    assert update.lookup_rows == 1  # only "a" shares a bucket with the new row
    edges = content_pairs(tmp_path / INDEX)  # records without a hash: a content each
    assert edges.select("first_content", "second_content", "match").rows() == [
        ("record:a", "record:a-copy", "near")
    ]
    table = clusters(tmp_path / INDEX, tmp_path / "clusters.parquet")
    assert pl.read_parquet(table.path)["record_id"].to_list() == ["a", "a-copy"]
    update = update_index(tmp_path / INDEX, {"p1": first, "p2": second})
    assert update.added == [] and update.new_pairs == 0
    assert content_pairs(tmp_path / INDEX).height == 1
    update = update_index(tmp_path / INDEX, {"p2": second})
    assert update.removed == ["p1"] and update.records_indexed == 1
    assert content_pairs(tmp_path / INDEX).height == 0


def _cluster_rows(tmp_path: Path) -> pl.DataFrame:
    return pl.read_parquet(clusters(tmp_path / INDEX, tmp_path / "clusters.parquet").path)


def test_copies_of_a_text_are_one_content_and_keep_its_pairs(tmp_path: Path) -> None:
    """2,000 copies of a text in each of two partitions: no pair among them (pairing records
    stored 4,000 x 3,999 / 2 of them) and the lookup of a near copy brings one row, not 4,000.
    The pair of two contents stays while a copy of each is indexed, and goes with the last."""
    base = document(3)
    copies = {f"a{k:04d}": base for k in range(2_000)}
    first = signature_file(tmp_path / "p1.parquet", {**copies, "b": document(4)}, hashed=True)
    second = signature_file(
        tmp_path / "p2.parquet",
        {**{f"c{k:04d}": base for k in range(2_000)}, "d": edited(base, 2)},
        hashed=True,
    )
    update = update_index(tmp_path / INDEX, {"p1": first}, batch_rows=300)
    assert update.new_pairs == 0 and update.lookup_rows == 0
    assert update.copies_of_indexed_content == 1_999  # one lookup for the text, then none
    update = update_index(tmp_path / INDEX, {"p1": first, "p2": second}, batch_rows=300)
    assert update.copies_of_indexed_content == 2_000 and update.lookup_rows == 1
    assert update.new_pairs == 1 and content_pairs(tmp_path / INDEX)["match"].to_list() == ["near"]
    rows = _cluster_rows(tmp_path)
    assert rows.height == 4_001 and rows["cluster_size"].unique().to_list() == [4_001]
    assert rows.filter(pl.col("role") == "survivor")["record_id"].to_list() == ["a0000"]
    matches = dict(rows.group_by("match").len().rows())
    assert matches == {"self": 1, "exact": 3_999, "near": 1}

    update_index(tmp_path / INDEX, {"p2": second}, batch_rows=300)  # the text is still in p2
    assert content_pairs(tmp_path / INDEX).height == 1
    rows = _cluster_rows(tmp_path)
    assert rows.height == 2_001 and rows.filter(pl.col("record_id") == "d")["match"][0] == "near"

    update = update_index(tmp_path / INDEX, {"p1": first}, batch_rows=300)  # "d" leaves
    assert update.removed == ["p2"] and content_pairs(tmp_path / INDEX).height == 0
    assert set(_cluster_rows(tmp_path)["match"]) == {"self", "exact"}

    update = update_index(tmp_path / INDEX, {"p1": first, "p2": second}, batch_rows=300)
    assert update.new_pairs == 1 and update.lookup_rows == 1  # found again when "d" is back


def test_an_index_of_the_earlier_layout_is_built_again(tmp_path: Path) -> None:
    """An index written before contents (pairs of record ids, with the settings' fingerprint
    alone) is dropped and built again from the signature files, not read as this layout."""
    with connect(tmp_path / INDEX) as connection:
        connection.execute("DROP TABLE edges; DROP TABLE records").fetchall()
        connection.execute(
            "CREATE TABLE records (file VARCHAR, id VARCHAR, sha256 VARCHAR);"
            "CREATE TABLE edges (first_id VARCHAR, second_id VARCHAR, first_file VARCHAR, "
            "second_file VARCHAR, match VARCHAR, similarity DOUBLE);"
            "INSERT INTO settings VALUES ('defaults');"
            "INSERT INTO files VALUES ('p1', 'old');"
            "INSERT INTO records VALUES ('p1', 'stale', NULL);"
        ).fetchall()
    base = document(3)
    path = signature_file(tmp_path / "p1.parquet", {"a": base, "b": edited(base, 2)})
    update = update_index(tmp_path / INDEX, {"p1": path})
    assert update.added == ["p1"] and update.records_indexed == 2 and update.new_pairs == 1
    assert _cluster_rows(tmp_path)["record_id"].to_list() == ["a", "b"]


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


def _bucket_file(path: Path, count: int, seed: int) -> Path:
    """`count` different texts' signatures that all share their first band (a template filled
    `count` ways, as LSH sees it) and agree nowhere else: every one a candidate of every
    other, none a near duplicate."""
    rng = np.random.default_rng(seed)
    signatures = rng.integers(1, 2**32 - 1, size=(count, 112), dtype=np.uint32)
    signatures[:, :8] = 7
    keys = rng.integers(1, 2**63, size=(count, 14), dtype=np.uint64)
    keys[:, 0] = 12345
    pl.DataFrame(
        {
            "id": [f"{path.stem}-{k:05d}" for k in range(count)],
            "source_kind": "texts",
            "source_partition": path.stem,
            "sha256": [f"{path.stem}-{k}" for k in range(count)],
            "signature": pl.Series(signatures.tolist(), dtype=pl.List(pl.UInt32)),
            "band_keys": pl.Series(keys.tolist(), dtype=pl.List(pl.UInt64)),
        }
    ).write_parquet(path)
    return path


def _indexed_as_is(index: Path, label: str, path: Path) -> None:
    """`path`'s rows in the index as `update_index` would hold them, without finding their
    pairs (N²/2 candidates for a crowded bucket: slow, and not what the test measures)."""
    update_index(index, {})
    with connect(index) as connection:
        connection.execute(
            "INSERT INTO records BY NAME SELECT *, ? AS file, 'text:' || sha256 AS content "
            "FROM read_parquet(?)",
            [label, str(path)],
        ).fetchall()
        state = SignatureTable.of_file(path).state
        connection.execute("INSERT INTO files VALUES (?, ?)", [label, state]).fetchall()


def test_a_crowded_bucket_comes_into_python_a_part_at_a_time(tmp_path: Path) -> None:
    """A batch whose bucket holds 500 or 2,000 indexed contents: the lookup finds them all, and
    Python holds `batch_rows` of them at once either way (all at once, the peak grew with the
    bucket: each row with its signature is a few KB as Python objects)."""
    peaks = {}
    for indexed in (500, 2_000):
        folder = tmp_path / str(indexed)
        folder.mkdir()
        index = folder / INDEX
        crowd = _bucket_file(folder / "crowd.parquet", indexed, seed=1)
        _indexed_as_is(index, "crowd", crowd)
        newcomers = _bucket_file(folder / "newcomers.parquet", 100, seed=2)
        tracemalloc.start()
        update = update_index(index, {"crowd": crowd, "newcomers": newcomers}, batch_rows=100)
        peaks[indexed] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert update.added == ["newcomers"] and update.rows_read_in_full == 100
        assert update.lookup_rows == indexed and update.new_pairs == 0
    assert peaks[2_000] < 1.3 * peaks[500], peaks
