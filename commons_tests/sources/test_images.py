from __future__ import annotations

from pathlib import Path

from commons_assets.records import sha256_hex
from commons_assets.sources.images import read_image_collection
from commons_assets.sources.limits import SourceLimits
from commons_tests.builders import png_with_declared_size, write_jsonl, write_png


def test_images_are_verified_and_bad_ones_quarantined_with_reasons(tmp_path: Path) -> None:
    folder = tmp_path / "sources" / "images" / "c"
    good = write_png(folder / "files" / "good.png", (40, 30))
    (folder / "files" / "text.png").write_text("just text")
    (folder / "files" / "bomb.png").write_bytes(png_with_declared_size(30_000, 30_000))
    (folder / "files" / "cut.png").write_bytes(good.read_bytes()[:60])
    write_jsonl(
        folder / "records.jsonl",
        [
            {
                "id": "good",
                "file": "files/good.png",
                "caption": "A teal box",
                "rights": "CC0-1.0",
                "creator": "Cy",
            },
            {"id": "bare", "file": "good.png", "title": "Same file, bare name"},
            {"id": "text", "file": "files/text.png"},
            {"id": "bomb", "file": "files/bomb.png"},
            {"id": "cut", "file": "files/cut.png"},
            {"id": "gone", "file": "files/gone.png"},
            {"id": "escape", "file": "../../../../etc/passwd"},
            {"id": "remote", "url": "https://img.example/1.jpg", "caption": "Remote"},
            {"id": "nothing"},
        ],
    )
    result = read_image_collection(
        folder, "c", tmp_path, limits=SourceLimits(max_image_pixels=10_000_000)
    )
    assert [r["source_id"] for r in result.records] == ["good", "bare", "remote"]
    first = result.records[0]
    assert first["image"] == {
        "file": "sources/images/c/files/good.png",
        "url": None,
        "width": 40,
        "height": 30,
        "format": "PNG",
        "mode": "RGB",
        "bytes": good.stat().st_size,
    }
    assert first["sha256"] == sha256_hex(good.read_bytes())
    assert (first["caption"], first["licence_raw"], first["attribution"]) == (
        "A teal box",
        "CC0-1.0",
        "Cy",
    )
    assert result.records[1]["caption"] == "Same file, bare name"
    assert result.records[2]["image"]["url"] == "https://img.example/1.jpg"
    assert {q["source_id"]: q["reason"] for q in result.quarantined} == {
        "text": "not_an_image",
        "bomb": "pixel_limit_exceeded",
        "cut": "image_undecodable",
        "gone": "image_file_missing",
        "escape": "file_outside_collection",
        "nothing": "missing_image",
    }


def test_pixel_limit_applies_to_real_images_before_decoding(tmp_path: Path) -> None:
    folder = tmp_path / "sources" / "images" / "c"
    write_png(folder / "files" / "wide.png", (200, 100))
    write_jsonl(folder / "records.jsonl", [{"id": "wide", "file": "files/wide.png"}])
    assert read_image_collection(
        folder, "c", tmp_path, limits=SourceLimits(max_image_pixels=20_000)
    ).records
    limited = read_image_collection(
        folder, "c", tmp_path, limits=SourceLimits(max_image_pixels=19_999)
    )
    assert [q["reason"] for q in limited.quarantined] == ["pixel_limit_exceeded"]
    assert "200x100" in limited.quarantined[0]["detail"]


def test_missing_records_file_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "sources" / "images" / "c"
    folder.mkdir(parents=True)
    result = read_image_collection(folder, "c", tmp_path)
    assert [q["reason"] for q in result.quarantined] == ["no_records_file"]
