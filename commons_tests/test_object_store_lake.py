"""The lake on an object store: the data root as an fsspec URL (here fsspec's in-process
`memory://` store; test_scale_out.py runs the same on an S3 server). Sources are listed and
read, tables, side tables and releases written, and the duplicate index shared through the
store only: nothing of the lake lands on the local disk but the scratch a step spools in."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from upath import UPath

from commons_assets.dedupe.index import SignatureTable
from commons_assets.dedupe.resource import DedupeIndex
from commons_assets.dedupe.settings import DedupeConfig
from commons_assets.lake import Lake, read_table
from commons_tests.conftest import copy_sample
from commons_tests.dedupe.test_index import signature_file
from commons_tests.dedupe.test_minhash import document, edited
from commons_tests.publish.test_sample_manifest import GOLDEN, released_files


@pytest.fixture
def store_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[UPath]:
    """A data root on fsspec's memory store (a bucket of its own), its scratch in tmp_path."""
    (tmp_path / "scratch").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))  # the worker's disk
    root = UPath(f"memory://commons-{uuid.uuid4().hex[:8]}/data")
    yield root
    if root.exists():
        root.fs.rm(root.path, recursive=True)


def test_the_sample_built_on_an_object_store_is_the_golden_release(
    store_root: UPath, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commons_assets.build import build
    from commons_assets.definitions import defs

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    lake = Lake(root=str(copy_sample(store_root)))
    assert lake.on_object_store and lake.root == str(store_root)
    lines: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance:
        assert build(defs, lake, instance, echo=lines.append), "\n".join(lines)
    assert released_files(lake) == json.loads(GOLDEN.read_text())
    # Every table, side table and the index are objects of the store.
    clean = read_table(lake.table_path("clean_pages", "crawl-2026-11-a"))
    assert clean.height and lake.quarantine_path("corpus_texts", "community-writing").exists()
    assert lake.index_path.exists()
    # The steward's commands read the store too: a record traced, the review queue listed.
    from commons_assets.governance.review_queue import held
    from commons_assets.publish.trace import trace

    record = clean.filter(pl.col("text").is_not_null())["id"][0]
    report = trace(store_root, record)
    assert record in report and "no record" not in report, report
    assert "id" in held(store_root).columns
    # Nothing of the lake on the local disk: no data folder, no spool left in the scratch.
    assert not (tmp_path / "data").exists()
    left = [p for p in (tmp_path / "scratch").rglob("*.parquet") if p.is_file()]
    assert not left, left


def _signatures(folder: Path, name: str, texts: dict[str, str]) -> SignatureTable:
    return SignatureTable.of_file(signature_file(folder / f"{name}.parquet", texts))


@contextmanager
def worker(disk: Path) -> Iterator[None]:
    """Run as a worker whose local disk (its scratch) is `disk`."""
    disk.mkdir(exist_ok=True)
    saved, tempfile.tempdir = tempfile.tempdir, str(disk)
    try:
        yield
    finally:
        tempfile.tempdir = saved


def test_workers_that_share_no_disk_share_the_index_through_the_store(
    store_root: UPath, tmp_path: Path
) -> None:
    """Each worker's update starts from the index the last one put on the store: the second
    worker takes in only the new partition's rows and still finds its pair with the first
    partition; a worker whose local copy is stale fetches the store's."""
    settings, fingerprint = DedupeConfig().clusters, DedupeConfig().fingerprint()
    index = DedupeIndex(lake=Lake(root=str(store_root)))
    base = document(3)
    first = _signatures(tmp_path, "p1", {"a": base, "b": document(4)})
    second = _signatures(tmp_path, "p2", {"c": edited(base, 2)})
    third = _signatures(tmp_path, "p3", {"d": edited(document(4), 2)})
    with worker(tmp_path / "one"):
        update = index.update({"p1": first}, settings, fingerprint)
    assert update.new_pairs == 0 and index.path.exists()
    with worker(tmp_path / "two"):
        update = index.update({"p1": first, "p2": second}, settings, fingerprint)
        pairs = pl.read_parquet(index.clusters(tmp_path / "two.parquet").path)
    assert pairs.select("cluster_id", "record_id").rows() == [("a", "a"), ("a", "c")]
    assert update.added == ["p2"] and update.records_indexed == 3, update  # p1 from the store
    with worker(tmp_path / "one"):  # its copy is the one before worker two's put
        update = index.update({"p1": first, "p2": second, "p3": third}, settings, fingerprint)
        assert update.added == ["p3"], update
        members = pl.read_parquet(index.clusters(tmp_path / "one.parquet").path)
        assert set(members["record_id"]) == {"a", "b", "c", "d"}
