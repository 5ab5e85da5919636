"""Distributors' wrappers around curated texts (Project Gutenberg's header, footer and licence)
are stripped before the quality rules, counted, and the kept span recorded in provenance."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from commons_assets.clean.settings import SettingsError, load_clean_settings
from commons_assets.clean.wrappers import find_wrapper, strip_wrapper
from commons_assets.defs.clean.assets import clean_texts
from commons_assets.defs.sources.assets import corpus_texts
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_tests.clean.test_settings import write_settings
from commons_tests.runs import materialize

# Written for these tests in the layout of a Project Gutenberg plain-text file (header, banner,
# credits, the work, end banner, licence); the prose is ours.
WORK = "\n\n".join(
    [
        "CHAPTER I. The miller's daughter walked down to the weir on the first morning of the "
        "flood and counted the herons standing among the reeds.",
        "She wrote their number in the ledger that her father kept beside the scales, because "
        "the parish paid a penny for every bird seen before the bells rang.",
        "CHAPTER II. By noon the water had risen over the lower meadow; the sheep were driven "
        "up to the churchyard, and the schoolmaster closed his doors early.",
        "Old Thomas, who remembered the great flood of his boyhood, said that the river would "
        "turn before midnight, and nobody believed him until it did.",
    ]
)
MODERN = (
    "\ufeffThe Project Gutenberg eBook of The Mill Ledger\r\n\r\n"
    "This ebook is for the use of anyone anywhere in the United States and most other parts "
    "of the world at no cost and with almost no restrictions whatsoever.\r\n\r\n"
    "Title: The Mill Ledger\r\n\r\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK THE MILL LEDGER ***\r\n\r\n"
    "Produced by a volunteer and the Online Distributed\r\nProofreading Team.\r\n\r\n\r\n"
    + WORK.replace("\n", "\r\n")
    + "\r\n\r\n\r\n*** END OF THE PROJECT GUTENBERG EBOOK THE MILL LEDGER ***\r\n\r\n"
    "Updated editions will replace the previous one--the old editions will be renamed.\r\n"
    "START: FULL LICENSE\r\nTHE FULL PROJECT GUTENBERG LICENSE\r\n"
)
OLD = (
    "The Project Gutenberg Etext of The Mill Ledger\n\n"
    "**Welcome To The World of Free Plain Vanilla Electronic Texts**\n\n"
    "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\n"
    + WORK
    + "\n\nEnd of Project Gutenberg's The Mill Ledger\n"
)


@pytest.mark.parametrize("book", [MODERN, OLD], ids=["banner", "small-print"])
def test_gutenberg_wrapper_is_found_with_the_work_span(book: str) -> None:
    found = find_wrapper(book)
    assert found is not None and found.wrapper == "gutenberg"
    work = book[found.start : found.end]
    assert work.replace("\r\n", "\n") == WORK
    assert strip_wrapper(book) == (work, found)


def test_text_without_a_wrapper_is_left_alone() -> None:
    assert find_wrapper(WORK) is None
    assert strip_wrapper(WORK) == (WORK, None)
    # The phrase in running text is not a marker: markers stand at the start of a line.
    quoted = WORK + " The book ends: *** END OF THE PROJECT GUTENBERG EBOOK, he read."
    assert find_wrapper(quoted) is None


def books_root(root: Path) -> Path:
    books = root / "sources" / "texts" / "books"
    books.mkdir(parents=True)
    (books / "collection.json").write_text(json.dumps({"licence": "PDM-1.0", "publisher": "PG"}))
    rows = [
        {"id": "ledger", "text": MODERN, "title": "The Mill Ledger"},
        {"id": "old", "text": OLD},
    ]
    (books / "part-1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def clean_books(root: Path, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    lake = Lake(root=str(root))
    sync_partitions(instance, lake)
    return materialize(
        [corpus_texts, clean_texts],
        partition_key="books",
        resources=resources_for(lake),
        instance=instance,
    )


def test_clean_texts_strips_wrappers_and_records_the_span(tmp_path: Path, instance) -> None:
    root = books_root(tmp_path)
    result = clean_books(root, instance)
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key.path == ["clean_texts"]
    ]
    assert event.materialization.metadata["wrappers_stripped/gutenberg"].value == 2
    kept = pl.read_parquet(Lake(root=str(root)).table_path("clean_texts", "books")).sort(
        "source_id"
    )
    assert kept["source_id"].to_list() == [
        "ledger",
        "old",
    ]  # the curated-texts rules keep both books
    for row in kept.iter_rows(named=True):
        assert row["text"] == WORK
        assert "PROJECT GUTENBERG" not in row["text"].upper()
        source = MODERN if row["source_id"].endswith("ledger") else OLD
        span = row["provenance"]["text_span"]
        assert source[span["start"] : span["end"]].replace("\r\n", "\n") == WORK
        [strip] = [s for s in row["provenance"]["steps"] if s["name"] == "strip_wrapper"]
        assert f"kept characters {span['start']}-{span['end']} of {len(source)}" in strip["version"]


def test_wrappers_can_be_kept_by_setting(tmp_path: Path, instance) -> None:
    root = books_root(tmp_path)
    write_settings(root, "[quality.texts]\nwrappers = []\n")
    clean_books(root, instance)
    kept = pl.read_parquet(Lake(root=str(root)).table_path("clean_texts", "books"))
    assert all("PROJECT GUTENBERG" in text.upper() for text in kept["text"])
    assert kept["provenance"].struct.field("text_span").is_null().all()


def test_presets_and_wrapper_names_are_checked(tmp_path: Path) -> None:
    write_settings(
        tmp_path, '[quality.archives]\npreset = "fineweb"\n[quality.texts]\nmin_chars = 5'
    )
    settings = load_clean_settings(tmp_path)
    assert settings.quality["archives"].fineweb is not None
    assert settings.quality["texts"].wrappers == ("gutenberg",)
    for bad in ('[quality.archives]\npreset = "dolma"', '[quality.texts]\nwrappers = ["hathi"]'):
        write_settings(tmp_path, bad)
        with pytest.raises(SettingsError, match=r"dolma|hathi"):
            load_clean_settings(tmp_path)
