"""Clean partitions materialized through Dagster after their source partitions."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from PIL import Image

from commons_assets.clean import documents
from commons_assets.clean.documents import perceptual_hash
from commons_assets.clean.settings import load_clean_settings
from commons_assets.defs.clean.assets import clean_images, clean_pages, clean_posts, clean_texts
from commons_assets.defs.sources.assets import (
    archive_pages,
    corpus_texts,
    image_records,
    social_posts,
)
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_tests.builders import SAMPLE_DAY, write_jsonl
from commons_tests.runs import materialize

PAIRS = [
    (archive_pages, clean_pages, "site-a"),
    (corpus_texts, clean_texts, "essays"),
    (image_records, clean_images, "photos"),
    (social_posts, clean_posts, SAMPLE_DAY),
]


@pytest.mark.parametrize(("source", "clean", "partition"), PAIRS)
def test_clean_partition_follows_its_source_partition(
    lake: Lake, instance: dg.DagsterInstance, source, clean, partition: str
) -> None:
    sync_partitions(instance, lake)
    result = materialize(
        [source, clean], partition_key=partition, resources=resources_for(lake), instance=instance
    )
    assert result.success
    events = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    metadata = events[clean.key.to_user_string()].materialization.metadata
    reasons = {
        (r.data["outcome"], r.data["reason"]): r.data["count"]
        for r in metadata["reasons"].value.records
    }
    kept = pl.read_parquet(lake.table_path(clean.key.to_user_string(), partition))
    dropped = pl.read_parquet(lake.dropped_path(clean.key.to_user_string(), partition))
    assert reasons[("kept", "")] == kept.height == metadata["dagster/row_count"].value
    assert sum(n for (outcome, _), n in reasons.items() if outcome == "dropped") == dropped.height
    for reason in dropped["reason"]:
        assert metadata[f"dropped/{reason}"].value >= 1
    assert set(kept["source_partition"]) <= {partition}
    steps = kept["provenance"].struct.field("steps").to_list()
    assert all(any(s["name"] == "language" for s in row) for row in steps)


def test_clean_pages_extracts_text_and_evidence(lake: Lake, instance) -> None:
    sync_partitions(instance, lake)
    assert materialize(
        [archive_pages, clean_pages],
        partition_key="site-a",
        resources=resources_for(lake),
        instance=instance,
    ).success
    metadata_free = pl.read_parquet(lake.table_path("clean_pages", "site-a"))
    dropped = pl.read_parquet(lake.dropped_path("clean_pages", "site-a"))
    # The two tiny test pages ("First page.") are too short for web-page quality rules: dropped,
    # with reasons. A two-word text is one 2-gram covering all of it, so Gopher's top 2-gram
    # rule, which runs first as in datatrove's FineWeb pipeline, names it.
    assert metadata_free.height == 0
    assert set(dropped["reason"]) <= {"too_short", "gopher_top_2_gram", "gopher_short_doc"}
    assert dropped.height == 2


def test_clean_fails_clearly_when_the_source_partition_is_missing(lake: Lake, instance) -> None:
    sync_partitions(instance, lake)
    result = materialize(
        [corpus_texts.to_source_asset(), clean_texts],
        partition_key="essays",
        resources=resources_for(lake),
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "has not been materialized yet" in str(
        failure.step_failure_data.user_failure_data or failure.step_failure_data.error
    )


def test_perceptual_hash_is_close_for_a_resized_copy(tmp_path: Path) -> None:
    image = Image.new("RGB", (256, 256), "white")
    for x in range(0, 256, 32):
        image.paste((x, 40, 200 - x // 2), (x, x // 2, x + 24, x // 2 + 90))
    image.save(tmp_path / "full.png")
    image.resize((96, 96)).save(tmp_path / "small.jpg", quality=60)
    Image.new("RGB", (256, 256), "black").save(tmp_path / "other.png")
    full, small = perceptual_hash(tmp_path / "full.png"), perceptual_hash(tmp_path / "small.jpg")
    distance = bin(int(full, 16) ^ int(small, 16)).count("1")
    assert distance <= 8
    assert full != perceptual_hash(tmp_path / "other.png")


def test_images_without_caption_are_dropped(lake: Lake, data_root: Path, instance) -> None:
    photos = data_root / "sources" / "images" / "photos"
    write_jsonl(photos / "records.jsonl", [{"id": "red", "file": "files/red.png"}])
    sync_partitions(instance, lake)
    assert materialize(
        [image_records, clean_images],
        partition_key="photos",
        resources=resources_for(lake),
        instance=instance,
    ).success
    dropped = pl.read_parquet(lake.dropped_path("clean_images", "photos"))
    assert dropped["reason"].to_list() == ["no_caption"]


ARTICLE = """
<p>The harbour wall that protects the old fishing quay was finally repaired this week, after
two winters of storms had opened a gap wide enough for a rowing boat.</p>
<p>Engineers from the county drove new steel piles into the seabed and filled the space behind
them with granite blocks taken from the quarry above the town.</p>
<p>Fishermen say the calm water inside the wall has already changed their mornings. Boats that
had to wait for the tide can now leave at first light.</p>
<p>The council thanked the volunteers who kept the quay clean during the works. A small
ceremony is planned for the spring, when the new lamps will be switched on.</p>
"""
PAGE = f"""<html lang="en"><head><title>Harbour | Town News</title>
<meta property="article:published_time" content="2026-11-02T08:00:00Z">
<meta name="author" content="Jo Example"><meta name="tdm-reservation" content="1">
<link rel="license" href="https://creativecommons.org/licenses/by/4.0/"></head>
<body><nav>Home Sport Weather</nav><article><h1>The harbour wall is repaired</h1>{ARTICLE}
</article><footer>Contact news@town.example</footer></body></html>"""


def test_clean_pages_carries_text_evidence_and_metadata(tmp_path: Path) -> None:
    row = {
        "id": "x1",
        "source_kind": "archives",
        "source_partition": "p",
        "source_id": "https://town.example/harbour",
        "source_uri": "https://town.example/harbour",
        "record_role": "page",
        "html": PAGE,
        "language": None,
        "date": "2026-11-20T10:00:00Z",
        "consent": [
            {
                "channel": "http:content-usage",
                "raw": "train-ai=n",
                "verdict": None,
                "location": "https://town.example/harbour",
            }
        ],
        "provenance": {"source_file": "sources/archives/p.warc.gz", "offset": 0, "steps": []},
    }
    outcome = documents.clean_pages([row], load_clean_settings(tmp_path))
    [kept] = outcome.kept
    assert "granite blocks" in kept["text"] and "Weather" not in kept["text"]
    assert kept["html"] is None
    assert (kept["title"], kept["attribution"], kept["date"]) == (
        "Harbour | Town News",
        "Jo Example",
        "2026-11-02T08:00:00Z",
    )
    assert kept["licence_raw"] == "https://creativecommons.org/licenses/by/4.0/"
    assert [c["channel"] for c in kept["consent"]] == [
        "http:content-usage",
        "html:meta-tdm-reservation",
    ]
    assert kept["language"] == "en"
    assert [s["name"] for s in kept["provenance"]["steps"]] == [
        "extract",
        "normalise",
        "language",
        "quality",
        "pii",
    ]
