"""`commons bench rules`: the books are read from the corpus layout with their wrapper stripped
and judged by each kind's defaults; without corpora the bench says so and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from commons_tests.clean.test_wrappers import MODERN, WORK


def test_books_are_unwrapped_and_judged_per_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from commons_bench.rules import GUTENBERG_FOLDER, load_books, per_kind

    book = tmp_path / GUTENBERG_FOLDER / "pg1" / "1.txt"
    book.parent.mkdir(parents=True)
    book.write_bytes(MODERN.encode())
    [loaded] = load_books(tmp_path)
    assert (loaded.name, loaded.text, loaded.language) == ("books/1.txt", WORK, "en")
    per_kind([loaded])
    out = capsys.readouterr().out
    assert "per-kind rules on 1 Gutenberg books" in out
    assert "texts defaults (" in out and "archives defaults (" in out
    assert "): kept 1\n" in out


def test_without_corpora_the_bench_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from commons_bench.rules import run

    assert run(tmp_path) == 2
    out = capsys.readouterr().out
    assert "no evaluation texts found" in out or "datatrove is not installed" in out
