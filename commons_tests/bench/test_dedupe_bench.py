"""The dedupe benchmark's machinery on a small corpus made here."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from commons_bench.dedupe import labelled_pairs, quality, run


def corpus(root: Path, words: int = 875 * 6) -> Path:
    rng = random.Random(3)
    vocabulary = [f"word{i}" for i in range(3000)]
    folder = root / "dedupe" / "gutenberg_editions"
    folder.mkdir(parents=True)
    with gzip.open(folder / "pg1__1.txt.gz", "wt") as handle:
        handle.write(" ".join(rng.choice(vocabulary) for _ in range(words)))
    return root


def test_pairs_have_one_edited_copy_and_negatives() -> None:
    pairs = labelled_pairs(["a", "b", "c"])
    assert (0, 3, 0.0) in pairs and (1, 4, 0.0) in pairs and (2, 5, 0.0) in pairs


def test_quality_finds_near_duplicates(tmp_path: Path) -> None:
    documents = [" ".join(f"w{i}x{j}" for j in range(300)) for i in range(20)]
    precision, recall, f1 = quality(documents)["commons"]
    assert recall > 0.7 and precision > 0.5 and f1 > 0.6  # 20 documents: a coarse check


def test_run_prints_every_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(corpus(tmp_path), limit=6, rounds=1, per_partition=5) == 0
    out = capsys.readouterr().out
    for name in ("commons", "(a) datasketch MinHash.bulk", "(b) MinHash.update loop"):
        assert f"speed  {name}" in out
    assert "quality commons" in out and "goal: >= 4x (a)" in out
    assert "incremental: last / first" in out
    assert run(tmp_path / "nothing") == 2
