"""The bundled sample builds completely and shows the audit and the quarantine something to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from commons_assets import cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def sample_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    shutil.copytree(REPO / "data" / "sources", root / "sources")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    return root


def test_the_bundled_sample_builds_every_partition(
    sample_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build", "--data", str(sample_root)]) == 0
    out = capsys.readouterr().out
    assert out.count("  ok    ") == 46 and "FAIL" not in out
    lake = sample_root / "lake"

    def table(asset: str) -> pl.DataFrame:
        return pl.read_parquet(lake / asset / "*.parquet")

    def quarantine_reasons(asset: str) -> set[str]:
        return set(pl.read_parquet(lake / "_quarantine" / asset / "*.parquet")["reason"])

    pages = table("archive_pages")
    assert set(pages["record_role"]) == {"page", "robots.txt", "ai.txt", "tdmrep"}
    assert pages.filter(pl.col("encoding") == "cp1252").height == 1
    assert "warc_unreadable" in quarantine_reasons("archive_pages")
    assert table("corpus_texts").height == 16
    assert {"invalid_json", "missing_text"} <= quarantine_reasons("corpus_texts")
    assert {"not_an_image", "image_file_missing", "pixel_limit_exceeded"} <= quarantine_reasons(
        "image_records"
    )
    posts = table("social_posts")
    assert posts.height == 10
    assert posts["consent"].list.len().sum() >= 6  # intent declarations attached as evidence

    def dropped_reasons(asset: str) -> set[str]:
        return set(pl.read_parquet(lake / "_dropped" / asset / "*.parquet")["reason"])

    pages = table("clean_pages")
    assert pages.height >= 10 and pages["html"].null_count() == pages.height
    assert pages["licence_evidence"].list.len().sum() >= 9
    assert {"de", "en"} <= set(pages["language"])
    assert pages["pii"].struct.field("email").sum() == 1
    assert dropped_reasons("clean_pages") & {"too_short", "no_main_text"}  # the tag page
    assert "gopher_dup_line_frac" in dropped_reasons("clean_texts")
    images = table("clean_images")
    decisions = {
        row["source_id"]: (row["decision"], row["gate"])
        for asset in ("rights_pages", "rights_texts", "rights_images", "rights_posts")
        for row in table(asset).to_dicts()
    }
    assert decisions["https://news.example.net/local/harbour-breakwater-vote"][0] == "EXCLUDE"
    assert decisions["https://reviews.example.io/bikes/folding-commuter-test"][0] == "EXCLUDE"
    assert decisions["https://museum.example.org/press/annual-report-2026"][0] == "EXCLUDE"
    assert decisions["https://records.example.gov/guides/land-survey-copies"][0] == "HOLD"
    assert (
        decisions["https://museum.example.org/articles/weaving-traditions"][0] == "INCLUDE_ATTRIB"
    )
    assert decisions["library-of-things"] == ("EXCLUDE", "licence")
    # The blog's robots.txt is only in the robots.txt-only WARC: found there, named in evidence.
    sourdough = table("rights_pages").filter(
        pl.col("source_id") == "https://blog.example.com/2026/11/sourdough"
    )
    assert (sourdough["decision"][0], sourdough["gate"][0]) == ("INCLUDE_ATTRIB", "licence")
    [robots] = [e for e in sourdough["evidence"][0] if e["channel"] == "robots.txt"]
    assert robots["location"].endswith("captured 2026-11-18T09:02:00Z in robotstxt-2026-11")
    assert decisions["us-constitution-preamble"] == ("INCLUDE", "licence")
    assert decisions["mx-002"] == ("INCLUDE", "licence")  # NoC-US
    assert decisions["coins"] == ("HOLD", "licence")  # NKC
    dana = "at://did:plc:sample0dana00000000000004/app.bsky.feed.post/3ld1"
    assert decisions[dana] == ("EXCLUDE", "takedown")  # account deleted two days later
    small, full = (
        images.filter(pl.col("source_id") == name)["phash"][0]
        for name in ("chelsea-small", "chelsea")
    )
    assert small is not None and full is not None


def test_sample_sources_are_documented() -> None:
    documented = (REPO / "data" / "SOURCES.md").read_text()
    for folder in (REPO / "data" / "sources").glob("*/*"):
        stem = folder.name.split(".")[0] if folder.is_file() else folder.name
        assert stem[:10] in documented, f"{folder} is not listed in data/SOURCES.md"


def test_the_sample_shows_every_kind_of_duplicate(
    sample_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build", "--data", str(sample_root)]) == 0
    clusters = pl.read_parquet(sample_root / "lake" / "dedup_clusters" / "all.parquet")
    roles = {row["source_id"]: (row["role"], row["match"]) for row in clusters.to_dicts()}
    # the same work as a web page and in a text collection
    assert roles["https://wiki.example.edu/wiki/Tides"] == ("survivor", "self")
    assert roles["tides-explained"] == ("duplicate", "near")
    # an exact reprint: the CC0 copy survives over the CC BY one
    assert roles["garden-reprint"] == ("survivor", "self")
    assert roles["mill-street-garden"] == ("duplicate", "exact")
    # a thumbnail of a photograph: the larger original survives
    assert roles["chelsea"] == ("survivor", "self")
    assert roles["chelsea-small"] == ("duplicate", "image")
