from __future__ import annotations

import json
from pathlib import Path

from commons_assets.sources.texts import read_text_collection
from commons_tests.builders import write_jsonl


def collection(tmp_path: Path, rows: list, defaults: dict | None = None) -> Path:
    folder = tmp_path / "sources" / "texts" / "c"
    write_jsonl(folder / "a.jsonl", rows)
    if defaults is not None:
        (folder / "collection.json").write_text(json.dumps(defaults))
    return folder


def test_good_lines_pass_and_each_bad_line_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    folder = collection(
        tmp_path,
        [
            {"id": "a", "text": "Alpha."},
            '{"id": "b", "text": "unterminated',
            "[1, 2, 3]",
            {"text": "no id"},
            {"id": "c", "text": "   "},
            {"id": "a", "text": "Alpha again."},
            {"id": 7, "text": "Numeric ids are fine."},
        ],
    )
    with (folder / "a.jsonl").open("ab") as handle:
        handle.write(b'{"id": "latin", "text": "caf\xe9"}\n')
    result = read_text_collection(folder, "c", tmp_path)
    assert [r["source_id"] for r in result.records] == ["a", "7"]
    assert [(q["reason"], q["line"]) for q in result.quarantined] == [
        ("invalid_json", 2),
        ("not_an_object", 3),
        ("missing_id", 4),
        ("missing_text", 5),
        ("duplicate_id", 6),
        ("not_utf8", 8),
    ]
    assert all(q["source_file"] == "sources/texts/c/a.jsonl" for q in result.quarantined)


def test_collection_defaults_fill_missing_fields_and_records_override_them(tmp_path: Path) -> None:
    folder = collection(
        tmp_path,
        [
            {"id": "a", "text": "Alpha."},
            {"id": "b", "text": "Beta.", "licence": "CC0-1.0", "author": "Bea", "url": "https://b"},
        ],
        {"licence": "CC-BY-4.0", "publisher": "Pub", "source_url": "https://pub", "language": "en"},
    )
    a, b = read_text_collection(folder, "c", tmp_path).records
    assert (a["licence_raw"], a["attribution"], a["source_uri"], a["language"]) == (
        "CC-BY-4.0",
        "Pub",
        "https://pub",
        "en",
    )
    assert (b["licence_raw"], b["attribution"], b["source_uri"]) == ("CC0-1.0", "Bea", "https://b")
    assert a["provenance"]["source_file"] == "sources/texts/c/a.jsonl"
    assert a["provenance"]["line"] == 1 and b["provenance"]["line"] == 2
    assert a.get("licence") is None  # normalising is the rights audit's job


def test_unreadable_collection_file_is_quarantined_and_documents_still_read(tmp_path: Path) -> None:
    folder = collection(tmp_path, [{"id": "a", "text": "Alpha."}])
    (folder / "collection.json").write_text("{not json")
    result = read_text_collection(folder, "c", tmp_path)
    assert len(result.records) == 1
    assert [q["reason"] for q in result.quarantined] == ["invalid_collection_file"]


def test_folder_without_jsonl_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "sources" / "texts" / "empty"
    folder.mkdir(parents=True)
    result = read_text_collection(folder, "empty", tmp_path)
    assert [q["reason"] for q in result.quarantined] == ["no_jsonl_files"]
