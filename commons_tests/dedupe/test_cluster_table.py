"""The cluster table built inside DuckDB from the incremental index is the clustering of
`build_clusters` over `find_edges` of every record at once (the rules as first written, in
Python, pairing records): same components, survivors, roles and relations, on random lakes with
exact, near and image duplicates, chains that only connect through other members, withdrawn
works and ties in the survivor rule; batching a partition into the index finds the same pairs;
and the Python side of the step holds no more for a lake with a hundred times the pairs."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from commons_assets.dedupe.cluster_table import cluster_report
from commons_assets.dedupe.clusters import build_clusters, find_edges, phash_keys
from commons_assets.dedupe.index import clusters, content_pairs, update_index
from commons_assets.dedupe.minhash import band_keys, text_signatures
from commons_assets.dedupe.schemas import IMAGE_SIGNATURE_SCHEMA, SIGNATURE_SCHEMA
from commons_assets.defs.dedupe.assets import CLUSTER_SCHEMA
from commons_tests.dedupe.test_clusters import edit, text


def _fields(rng: random.Random, record_id: str, partition: str) -> dict[str, Any]:
    """The survivor rule's fields, drawn so that ties on the first ones are common."""
    return {
        "id": record_id,
        "source_partition": partition,
        "source_id": f"source-{record_id}",
        "decision": rng.choice(["INCLUDE", "INCLUDE_ATTRIB", "INCLUDE_ATTRIB"]),
        "tier": rng.choice(["open", "open", "consented", None]),
        "licence_class": rng.choice(["public-domain", "permissive", "share-alike", None]),
        "date": rng.choice([None, "", "2019-05-05", "2020-01-01", "2020-01-01"]),
        "evidence_count": rng.choice([None, 0, 1, 2]),
        "withdrawn": rng.random() < 0.05,
    }


def text_lake(rng: random.Random, partition: str, count: int) -> pl.DataFrame:
    """Texts: unrelated ones, exact copies, light edits and chains of edits (each link near,
    the ends apart: members that join their survivor only through others)."""
    texts: list[str] = []
    while len(texts) < count:
        body = text(rng.randrange(10**6), 300)
        texts.append(body)
        shape = rng.random()
        if shape < 0.2:
            texts.append(body)  # an exact copy
        elif shape < 0.45:
            texts.append(edit(body, 0.02, seed=rng.randrange(100)))
        elif shape < 0.7:
            for step in range(rng.randint(2, 5)):
                body = edit(body, 0.03, seed=step * 1000 + rng.randrange(1000))
                texts.append(body)
    texts = texts[:count]
    signatures = text_signatures(texts)
    rows = [
        {
            **_fields(rng, f"{partition}-t{k:03d}", partition),
            "source_kind": "texts",
            "sha256": f"sha-{hash(body)}",
            "signature": signature.tolist(),
            "band_keys": keys.tolist(),
        }
        for k, (body, signature, keys) in enumerate(
            zip(texts, signatures, band_keys(signatures), strict=True)
        )
    ]
    return pl.DataFrame(rows, schema=SIGNATURE_SCHEMA)


def image_lake(rng: random.Random, partition: str, count: int) -> pl.DataFrame:
    """Images: a pHash and copies a few bits away, some in chains that drift past 8 bits."""
    hashes: list[int] = []
    while len(hashes) < count:
        value = rng.getrandbits(64)
        hashes.append(value)
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            for bit in rng.sample(range(64), rng.randint(0, 6)):
                value ^= 1 << bit
            hashes.append(value)
    rows = []
    for k, value in enumerate(hashes[:count]):
        phash = f"{value:016x}"
        rows.append(
            {
                **_fields(rng, f"{partition}-i{k:03d}", partition),
                "source_kind": "images",
                "sha256": f"file-{value}" if rng.random() < 0.9 else None,
                "image_pixels": rng.choice([None, 0, 640 * 480, 1024 * 768]),
                "phash": phash,
                "band_keys": phash_keys(phash),
            }
        )
    return pl.DataFrame(rows, schema=IMAGE_SIGNATURE_SCHEMA)


def build_lake(folder: Path, seed: int, batch_rows: int = 7) -> Path:
    rng = random.Random(seed)
    files = {}
    for number in (1, 2, 3):
        for kind, frame in (
            ("texts", text_lake(rng, f"p{number}", 40)),
            ("images", image_lake(rng, f"p{number}", 25)),
        ):
            path = folder / f"{kind}-p{number}.parquet"
            frame.write_parquet(path, row_group_size=10)
            files[f"signatures_{kind}/p{number}"] = path
    index = folder / "index.duckdb"
    update_index(index, files, batch_rows=batch_rows)
    return index


def reference_rows(index: Path) -> list[dict[str, Any]]:
    """`build_clusters` on every indexed record and every pair of records `find_edges` finds
    among them in one pass (no index, no contents, no batches)."""
    with duckdb.connect(str(index), read_only=True) as connection:
        records = connection.sql("SELECT * EXCLUDE (content) FROM records").pl().to_dicts()
    return build_clusters({row["id"]: row for row in records}, find_edges(records))


# Lakes whose draw holds every relation (the assertion below says so; seed 3, say, has no chain
# whose ends fall apart).
@pytest.mark.parametrize("seed", [1, 2, 4, 6])
def test_the_table_is_the_python_clustering(tmp_path: Path, seed: int) -> None:
    index = build_lake(tmp_path, seed)
    table = clusters(index, tmp_path / "clusters.parquet")
    written = pl.read_parquet(table.path)
    assert written.schema == pl.Schema(CLUSTER_SCHEMA)
    expected = reference_rows(index)
    assert written.to_dicts() == expected
    assert table.rows == len(expected)
    # The lake holds what makes the rule hard: every relation, withdrawn works, big clusters.
    relations = {row["match"] for row in expected}
    assert {"exact", "near", "image", "near (transitive)", "image (transitive)"} <= relations
    assert any(row["role"] == "withdrawn" for row in expected)
    assert max(row["cluster_size"] for row in expected) >= 4


def test_batches_find_the_pairs_one_pass_finds(tmp_path: Path) -> None:
    (tmp_path / "batched").mkdir()
    (tmp_path / "whole").mkdir()
    batched = content_pairs(build_lake(tmp_path / "batched", 4, batch_rows=3))
    whole = content_pairs(build_lake(tmp_path / "whole", 4, batch_rows=10_000))
    key = ["first_content", "second_content", "match"]
    assert batched.sort(key).equals(whole.sort(key))
    assert batched.height > 20


def _chain_index(path: Path, length: int) -> Path:
    """An index of `length` contents, a record each, in one chain of confirmed pairs whose keys
    are in no order along it (position i holds key i * 7919 mod length: the least at one end,
    the next ones scattered)."""
    update_index(path, {})  # the tables
    position = "'a' || lpad(((i * 7919) % $n)::VARCHAR, 7, '0')"
    following = "'a' || lpad((((i + 1) * 7919) % $n)::VARCHAR, 7, '0')"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "INSERT INTO records (file, id, source_kind, source_partition, source_id, sha256, "
            f"content) SELECT 'f', {position}, 'texts', 'p', 's' || i::VARCHAR, {position}, "
            f"'text:' || {position} FROM range($n) t(i)",
            {"n": length},
        )
        connection.execute(
            f"INSERT INTO edges SELECT least('text:' || {position}, 'text:' || {following}), "
            f"greatest('text:' || {position}, 'text:' || {following}), 'near', 0.9 "
            "FROM range($n - 1) t(i)",
            {"n": length},
        )
    return path


def test_a_chain_settles_in_logarithmic_rounds_and_python_holds_no_pair(tmp_path: Path) -> None:
    """Label propagation alone needs a round per link of a chain; with hooking and pointer
    jumping the rounds grow with the logarithm. The Python heap while the table is built does
    not grow with the pairs: 2,000 and 200,000 pairs peak alike (build_clusters held them all
    as dicts)."""
    peaks = {}
    for length in (2_000, 200_000):
        index = _chain_index(tmp_path / f"chain-{length}.duckdb", length)
        tracemalloc.start()
        table = clusters(index, tmp_path / f"chain-{length}.parquet", memory_bytes=128 * 2**20)
        report = cluster_report(table.path)
        peaks[length] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert table.rows == length and report["clusters"] == 1
        assert report["duplicates"] == length - 1
        # The survivor (the least id, an end of the chain) has one neighbour; the rest join
        # through it.
        assert report["matches"] == {"near": 1, "transitive": length - 2}
        assert table.rounds <= length.bit_length(), table.rounds
        [largest] = report["largest"]
        assert largest["members"].endswith(f"… ({length} in all)")
    assert peaks[200_000] < 2 * peaks[2_000] + 1_000_000, peaks
    assert peaks[200_000] < 5_000_000, peaks
