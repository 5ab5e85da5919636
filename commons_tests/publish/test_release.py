"""Releases: loadable shards, a manifest that matches, determinism, immutability, tiers and
takedowns that reach the next release."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from commons_assets import cli
from commons_tests.builders import write_jsonl
from commons_tests.publish.ledgers import ledger_with


@pytest.fixture(autouse=True)
def ephemeral_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)


def build(root: Path) -> Path:
    assert cli.main(["build", "--data", str(root)]) == 0
    releases = root / "releases"
    return releases / (releases / "LATEST").read_text().strip()


def rows(folder: Path, config: str) -> list[tuple]:
    return duckdb.sql(
        f"SELECT source_id, licence, decision FROM read_parquet('{folder}/{config}/*.parquet') "
        "ORDER BY source_id"
    ).fetchall()


def test_release_layout_loads_and_manifest_matches(data_root: Path) -> None:
    release = build(data_root)
    assert {p.name for p in release.iterdir()} >= {
        "README.md",
        "ATTRIBUTION.md",
        "CHANGES.md",
        "MANIFEST.json",
        "text",
        "image_text",
    }
    assert rows(release, "text") == [
        ("e1", "CC-BY-4.0", "INCLUDE_ATTRIB"),
        ("e3", "CC0-1.0", "INCLUDE"),
    ]
    assert [r[0] for r in rows(release, "image_text")] == ["red"]
    columns = {
        c[0]
        for c in duckdb.sql(
            f"DESCRIBE SELECT * FROM read_parquet('{release}/text/*.parquet')"
        ).fetchall()
    }
    assert {
        "id",
        "source_uri",
        "licence",
        "licence_class",
        "attribution",
        "consent",
        "provenance",
        "sha256",
    } <= columns
    manifest = json.loads((release / "MANIFEST.json").read_text())
    for entry in manifest["files"]:
        data = (release / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
    card = (release / "README.md").read_text()
    assert card.startswith("---\npretty_name:") and "config_name: text" in card
    assert "## Licences" in card and "[CC0-1.0](https://spdx.org/licenses/CC0-1.0.html)" in card
    assert "## Images" in card and "1 image(s) shipped" in card
    assert "pd_jurisdiction" in columns
    assert "quarantined (unreadable input): invalid_json: 1" in card  # filters and counts
    assert "not admitted by the rights audit: EXCLUDE (default)" in card
    assert (
        "e1" not in (release / "ATTRIBUTION.md").read_text()
        or "CC-BY" in (release / "ATTRIBUTION.md").read_text()
    )


def test_consented_records_never_reach_the_open_tier(data_root: Path) -> None:
    release = build(data_root)
    consented = rows(release / "consented", "text")
    assert [r[0] for r in consented] == ["at://did:plc:testalice/app.bsky.feed.post/1"]
    open_ids = {r[0] for r in rows(release, "text")}
    assert not open_ids & {r[0] for r in consented}
    assert "consented" in (release / "consented" / "README.md").read_text()


def test_same_input_same_bytes_and_no_new_version(data_root: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(data_root / "sources", twin / "sources")
    first, second = build(data_root), build(twin)
    for shard in sorted(first.rglob("*.parquet")):
        assert shard.read_bytes() == (second / shard.relative_to(first)).read_bytes()
    again = build(data_root)
    assert again == first  # unchanged content: LATEST stays, no new version folder
    assert sorted(p.name for p in (data_root / "releases").iterdir()) == [first.name, "LATEST"]


def test_a_new_release_layout_cuts_a_new_version(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commons_assets.publish import release as release_module

    first = build(data_root)
    monkeypatch.setattr(release_module, "RELEASE_LAYOUT", release_module.RELEASE_LAYOUT + 1)
    second = build(data_root)  # the same rows, written in a newer layout
    assert (
        second != first and (data_root / "releases" / "LATEST").read_text().strip() == second.name
    )


def test_a_takedown_reaches_the_next_release_and_the_old_one_is_untouched(
    data_root: Path,
) -> None:
    first = build(data_root)
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
    write_jsonl(
        data_root / "policy" / "takedowns" / "requests.jsonl",
        [
            {
                "match": "id",
                "value": "e1",
                "reason": "author asked",
                "requested_at": "2026-11-24",
                "scope": "record",
            },
        ],
    )
    second = build(data_root)
    assert second != first
    assert [r[0] for r in rows(second, "text")] == ["e3"]
    changes = (second / "CHANGES.md").read_text()
    assert f"Compared with {first.name}" in changes and "removed: 1" in changes
    assert "takedown" in changes and "author asked" in changes
    [(e1_id,)] = duckdb.sql(
        f"SELECT id FROM read_parquet('{first}/text/*.parquet') WHERE source_id = 'e1'"
    ).fetchall()
    # which record, not only how many
    assert f"| text | removed | {e1_id} | EXCLUDE \\(takedown\\)" in changes
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before


def test_many_changes_are_listed_in_a_table_beside_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import polars as pl
    from upath import UPath

    from commons_assets.publish import release as release_module

    monkeypatch.setattr(release_module, "CHANGES_LISTED", 2)
    decisions = pl.DataFrame(
        {
            "id": ["z", "q"],
            "decision": ["EXCLUDE", "HOLD"],
            "gate": ["takedown", "licence"],
            "decision_reason": ["asked", "not here"],
        }
    )
    now = {("open", "text"): pl.DataFrame({"id": ["a", "b", "c"]})}
    table = UPath(tmp_path / "CHANGES.parquet")
    with ledger_with(tmp_path, decisions, summary=now, previous={"text": ["z", "b"]}) as ledger:
        text, counts = release_module._changes(ledger, "v2", "v1", [], table)
    assert counts == {"added": 2, "removed": 1}
    assert pl.read_parquet(table).rows() == [
        ("text", "added", "a", ""),
        ("text", "added", "c", ""),
        ("text", "removed", "z", "EXCLUDE (takedown): asked"),
    ]
    assert "  - 1: EXCLUDE \\(takedown\\): asked" in text  # escaped for Markdown
    assert "The 3 record ids added and removed are in CHANGES.parquet." in text


def test_why_a_record_is_left_out_is_dedupes_word_over_the_audits(tmp_path: Path) -> None:
    import polars as pl

    audited = pl.DataFrame(
        {
            "id": ["a", "b", "c", "f"],
            "decision": ["EXCLUDE", "INCLUDE", "HOLD", "HOLD"],
            "gate": ["takedown", "licence", "licence", None],
            "decision_reason": ["asked", "ok", "no licence", "unknown"],
        }
    )
    clusters = pl.DataFrame(
        {
            "record_id": ["b", "c", "d", "e", "e"],
            "role": ["duplicate", "withdrawn", "survivor", "duplicate", "duplicate"],
            "match": ["exact", "exact", "self", "near", "near"],
            "survivor_id": ["d", "d", "d", "d", "d"],
        }
    )
    ids = pl.Series("id", ["a", "b", "c", "d", "e", "f"])
    with ledger_with(tmp_path, audited, clusters) as ledger:
        assert dict(ledger.rows(ledger.reasons_sql())) == {
            "a": "EXCLUDE (takedown): asked",
            "b": "duplicate (exact) of d",
            "c": "withdrawn with its work (takedown, scope work)",  # not the audit's hold
            "e": "duplicate (near) of d",
            "f": "HOLD (None): unknown",
        }
        assert ledger.left_out(ids).to_list() == [False, True, True, False, True, False]
        assert ledger.left_out_count() == 3  # once each
        assert ledger.cluster_count() == 1
    with ledger_with(tmp_path, audited) as ledger:  # no cluster table yet
        assert not ledger.left_out(ids).any()


def test_croissant_metadata_validates_and_loads_the_records(data_root: Path) -> None:
    import mlcroissant as mlc

    release = build(data_root)
    dataset = mlc.Dataset(jsonld=release / "croissant.json")  # raises on validation errors
    assert not dataset.metadata.ctx.issues.warnings  # and warns of nothing
    assert dataset.metadata.version.endswith(f"+{release.name}")  # the release version as is
    assert dataset.metadata.conforms_to
    assert "https://spdx.org/licenses/CC0-1.0.html" in dataset.metadata.license
    fields = {f.name: f for r in dataset.metadata.record_sets for f in r.fields}
    assert all(field.description for field in fields.values())
    [image] = list(dataset.records("image_text"))
    assert image["image_text/image_data"].size == (32, 24)  # decoded as an image object
    assert {r.name for r in dataset.metadata.record_sets} == {"text", "image_text"}
    ids = sorted(r["text/id"].decode() for r in dataset.records("text"))
    assert ids == sorted(
        r[0]
        for r in duckdb.sql(f"SELECT id FROM read_parquet('{release}/text/*.parquet')").fetchall()
    )
    consented = mlc.Dataset(jsonld=release / "consented" / "croissant.json")
    assert len(list(consented.records("text"))) == 1
    manifest = json.loads((release / "MANIFEST.json").read_text())
    assert "croissant.json" in {entry["path"] for entry in manifest["files"]}


def test_gated_collections_go_to_their_own_tier(data_root: Path) -> None:
    collection = data_root / "sources" / "texts" / "essays" / "collection.json"
    collection.write_text(json.dumps({"licence": "CC-BY-4.0", "gated": True}))
    release = build(data_root)
    assert [r[0] for r in rows(release / "gated", "text")] == ["e1", "e3"]
    assert not (release / "text").exists()  # nothing from the gated collection is open
    assert "gated" in (release / "gated" / "README.md").read_text()


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        ('{"licence": "CC-BY-4.0", "gated": tru', "cannot be read"),
        ('{"gated": "yes"}', "gated must"),
    ],
)
def test_collection_terms_that_cannot_be_read_hold_its_records(
    data_root: Path, terms: str, problem: str
) -> None:
    """Fail closed: an unknown gated flag never sends a collection to the open tier."""
    (data_root / "sources" / "texts" / "essays" / "collection.json").write_text(terms)
    release = build(data_root)
    published = duckdb.sql(
        f"SELECT source_id FROM read_parquet('{release}/**/*.parquet', union_by_name = true)"
    ).fetchall()
    assert ("e3",) not in published
    audit = duckdb.sql(
        f"SELECT source_id, decision, gate, decision_reason FROM read_parquet("
        f"'{data_root}/lake/rights_texts/essays.parquet') WHERE source_id = 'e3'"
    ).fetchall()
    ((_, decision, gate, reason),) = audit
    assert (decision, gate) == ("HOLD", "collection-terms") and problem in reason


def load_with_datasets(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    """A config's shards through `datasets`' parquet loader, offline."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    return datasets.load_dataset(
        "parquet",
        data_files={"train": sorted(str(p) for p in folder.glob("*"))},
        split="train",
        cache_dir=str(tmp_path / "hf-cache"),
    )


def test_shards_load_with_the_datasets_parquet_loader(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = build(data_root)
    text = load_with_datasets(release / "text", tmp_path, monkeypatch)
    assert sorted(text["source_id"]) == ["e1", "e3"]
    assert {"licence", "attribution", "consent", "provenance"} <= set(text.column_names)


def test_a_release_copied_elsewhere_loads_with_its_images(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    release = build(data_root)
    source_file = data_root / "sources" / "images" / "photos" / "files" / "red.png"
    original = source_file.read_bytes()
    away = tmp_path / "away" / release.name
    shutil.copytree(release, away)
    shutil.rmtree(data_root)  # nothing under the data root is left to point at

    [(name, data, sha)] = duckdb.sql(
        f"SELECT image.file, image_data.bytes, sha256 "
        f"FROM read_parquet('{away}/image_text/*.parquet')"
    ).fetchall()
    assert data == original and hashlib.sha256(data).hexdigest() == sha
    assert name == f"{sha}.png"  # the image's name in the release, not a source path
    loaded = load_with_datasets(away / "image_text", tmp_path, monkeypatch)
    import datasets  # imported once the loader has set it offline

    assert isinstance(loaded.features["image_data"], datasets.Image)
    image = loaded[0]["image_data"]
    assert isinstance(image, Image.Image) and image.size == (32, 24)


def test_a_changed_image_file_is_not_shipped_under_its_old_hash(data_root: Path) -> None:
    from commons_assets.publish.images import ImageChanged, image_bytes

    row = {"image": {"file": "sources/images/photos/files/red.png"}, "sha256": "0" * 64}
    with pytest.raises(ImageChanged, match="bytes changed"):
        image_bytes(row, data_root)
    assert (
        image_bytes({"image": {"file": None, "url": "https://x.example/a.png"}}, data_root) is None
    )


def test_image_shards_are_bounded_by_bytes() -> None:
    import polars as pl

    from commons_assets.publish.images import image_batches

    frame = pl.DataFrame({"image": [{"bytes": size} for size in (40, 40, 40, 100, None, 10)]})
    sizes = [batch.height for batch in image_batches(frame, max_bytes=100)]
    assert sizes == [2, 1, 2, 1]  # 40+40 | 40 | 100+None | 10
    assert sum(sizes) == frame.height


def test_croissant_names_every_licence_form() -> None:
    import mlcroissant as mlc

    from commons_assets.publish.croissant import CONSENT_TERMS, licence_entries

    entries = licence_entries(
        {
            "CC0-1.0",
            "https://creativecommons.org/licenses/by/4.0/",
            "http://rightsstatements.org/vocab/NoC-US/1.0/",
            "CC-BY-4.0 OR MIT",
        },
        unlicensed=True,
    )
    names = [e.name if isinstance(e, mlc.CreativeWork) else e for e in entries]
    assert names == [
        "CC-BY-4.0 OR MIT",  # an expression: named, not guessed into one URL
        "https://spdx.org/licenses/CC0-1.0.html",
        "http://rightsstatements.org/vocab/NoC-US/1.0/",
        "https://creativecommons.org/licenses/by/4.0/",
        CONSENT_TERMS,
    ]


def test_attribution_says_when_none_is_required_and_the_card_names_other_licences(
    tmp_path: Path,
) -> None:
    import io

    import polars as pl
    import yaml

    from commons_assets.publish.release import _card, write_attribution

    frame = pl.DataFrame(
        {
            "source_kind": ["texts", "texts"],
            "source_partition": ["a", "a"],
            "id": ["1", "2"],
            "language": ["en", "en"],
            "licence": ["CC0-1.0", "Free to use, credit the archive"],
            "licence_class": ["public-domain", "permissive"],
            "decision": ["INCLUDE", "INCLUDE"],
        }
    )
    with ledger_with(tmp_path, summary={("open", "text"): frame}) as ledger:
        attribution = io.StringIO()
        write_attribution(ledger, attribution)
        card = _card("2026-12-03.1", "open", ledger.tier_facts("open"), {}, {}, {})
    assert "No record in this release requires attribution" in attribution.getvalue()
    front = yaml.safe_load(card.split("---")[1])
    assert front["license"] == ["cc0-1.0", "other"]
    assert front["license_name"] == "commons-per-record"
    assert front["license_link"] == "README.md#licences"
    assert "- Free to use, credit the archive: 1 (Hub id other)" in card


def test_every_column_is_described() -> None:
    from commons_assets.publish.columns import COLUMNS
    from commons_assets.records import COLUMN_DESCRIPTIONS, RECORD_SCHEMA
    from commons_assets.reporting import column_schema

    for columns in COLUMNS.values():
        assert all(COLUMN_DESCRIPTIONS.get(column) for column in columns)
    described = column_schema(RECORD_SCHEMA).columns  # what the UI shows for every stage
    assert all(column.description for column in described)
