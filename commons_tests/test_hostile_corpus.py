"""The hostile corpus (hostile_corpus.py) built end to end: the build succeeds, each bad item is
quarantined or reported with its reason, every good record around it is processed, and records
in = kept + quarantined (+ not carried) at the source, = kept + dropped at the clean stage."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from commons_assets import cli
from commons_tests.builders import ALICE, SAMPLE_DAY
from commons_tests.hostile_corpus import ITEMS, make_hostile_corpus

SOURCES = {
    "hostile-texts": ("corpus_texts", "clean_texts", "rights_texts", "part-1.jsonl"),
    "hostile-images": ("image_records", "clean_images", "rights_images", "records.jsonl"),
    SAMPLE_DAY: ("social_posts", "clean_posts", "rights_posts", "posts.jsonl"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("hostile")
    root = make_hostile_corpus(base)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.chdir(base)
        from contextlib import redirect_stdout
        from io import StringIO

        out = StringIO()
        with redirect_stdout(out):
            code = cli.main(["build", "--data", str(root)])
    # Everything builds, and the exit status says that steward lines could not be applied.
    assert code == 1, out.getvalue()
    assert "build FAILED" in out.getvalue() and out.getvalue().count("  FAIL  ") == 4
    return root, out.getvalue()


def table(root: Path, folder: str, partition: str) -> pl.DataFrame:
    return pl.read_parquet(root / "lake" / folder / f"{partition}.parquet")


def reasons(root: Path, asset: str, partition: str) -> dict[str, int]:
    quarantine = table(root, f"_quarantine/{asset}", partition)
    return dict(quarantine.group_by("reason").len().iter_rows())


def test_entries_that_define_no_partition_are_reported(built: tuple[Path, str]) -> None:
    _, out = built
    for entry in (
        "texts/name with spaces: name not usable as a partition key",
        "social/0000-override: not a day folder (YYYY-MM-DD)",
        "archives/linked.warc.gz: a symbolic link to outside the data root",
        "archives/crawl with spaces.warc.gz: name not usable as a partition key",
    ):
        assert f"SKIP  sources/{entry}" in out


def test_each_bad_item_is_quarantined_with_its_reason(built: tuple[Path, str]) -> None:
    root, _ = built
    assert reasons(root, "corpus_texts", "hostile-texts") == {
        "invalid_unicode": 1,
        "invalid_json": 1,  # the 5,000-digit number (the deep nesting is over the line limit)
        "line_too_long": 2,
        "duplicate_key": 1,
        "not_an_object": 1,
        "not_utf8": 1,
        "outside_data_root": 1,
    }
    assert reasons(root, "image_records", "hostile-images") == {
        "invalid_file_name": 1,
        "file_outside_collection": 1,
        "pixel_limit_exceeded": 1,
        "image_too_large": 1,
    }
    assert reasons(root, "social_posts", SAMPLE_DAY) == {"invalid_unicode": 1, "not_utf8": 1}
    assert reasons(root, "archive_pages", "harbour") == {"record_too_large": 1}


def test_records_in_equal_kept_plus_quarantined_plus_dropped(built: tuple[Path, str]) -> None:
    root, _ = built
    for partition, (source, clean, audit, items_file) in SOURCES.items():
        quarantine = table(root, f"_quarantine/{source}", partition)
        from_items = quarantine.filter(pl.col("source_file").str.ends_with(items_file)).height
        kept = table(root, source, partition).height
        assert kept + from_items == ITEMS[partition], partition
        cleaned = table(root, clean, partition).height
        dropped = table(root, f"_dropped/{clean}", partition).height
        assert cleaned + dropped == kept, partition
        assert table(root, audit, partition).height == cleaned, partition
    # Nothing from outside the data root anywhere in the lake.
    for path in (root / "lake").rglob("*.parquet"):
        frame = pl.read_parquet(path)
        if "source_id" in frame.columns:
            assert "secret" not in set(frame["source_id"].drop_nulls()), path
            assert "https://secret.example/" not in set(frame["source_id"].drop_nulls()), path


def test_consent_takedowns_and_outputs_hold(built: tuple[Path, str]) -> None:
    root, _ = built
    posts = table(root, "rights_posts", SAMPLE_DAY)
    alice = posts.filter(pl.col("source_id") == f"at://{ALICE}/app.bsky.feed.post/1").row(
        0, named=True
    )
    assert alice["decision"] == "EXCLUDE"  # her refusal stands against the stray "allow"
    pages = {row["source_id"]: row for row in table(root, "rights_pages", "harbour").to_dicts()}
    assert pages["https://harbour.example/taken-down?b=2&a=1"]["gate"] == "takedown"
    assert pages["https://harbour.example/deep"]["decision"] == "INCLUDE_ATTRIB"
    releases = root / "releases"
    release = releases / (releases / "LATEST").read_text().strip()
    published = set(pl.read_parquet(release / "text" / "*.parquet")["source_id"])
    assert {"t0", "t1", "t2", "https://harbour.example/ferry"} <= published
    assert "https://harbour.example/taken-down?b=2&a=1" not in published
    changes = (release / "CHANGES.md").read_text()
    assert "url=https://nowhere.example/ — a typo" in changes
    assert "## Takedown lines that could not be applied" in changes
    assert "policy/takedowns/requests.jsonl:4: not UTF\\-8" not in changes  # escaped once
    assert "requests.jsonl:4: not UTF-8" in changes
    card = (release / "README.md").read_text()
    front = yaml.safe_load(card.split("---\n")[1])
    assert set(front) == {"pretty_name", "license", "language", "size_categories", "configs"}
    attribution = (release / "ATTRIBUTION.md").read_text()
    assert "<script>" not in attribution and "](javascript:" not in attribution
