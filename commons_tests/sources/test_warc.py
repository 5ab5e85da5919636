"""The WARC reader on good and damaged files: good records come through, each bad region is
quarantined once with its offset and reason, and nothing disappears silently."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from commons_assets.sources.warc import read_warc
from commons_tests.builders import page, warc_record_bytes


def records(n: int, gzip_members: bool = True) -> list[bytes]:
    return [
        warc_record_bytes(
            f"https://a.example/{i}", page(f"Page {i}", f"Body {i}"), number=i, gzip=gzip_members
        )
        for i in range(1, n + 1)
    ]


def read(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return read_warc(path, "p", name)


def uris(result) -> list[str]:
    return [r["source_id"] for r in result.records]


def test_reads_pages_site_files_and_headers(tmp_path: Path) -> None:
    data = (
        warc_record_bytes(
            "https://a.example/robots.txt",
            b"User-agent: *\nDisallow: /x\n",
            content_type="text/plain",
            number=1,
        )
        + warc_record_bytes("https://a.example/p", b"", rec_type="request", number=2)
        + warc_record_bytes(
            "https://a.example/p",
            page("P", "text"),
            number=3,
            headers=[("Content-Usage", "train-ai=n"), ("X-Other", "1")],
        )
        + warc_record_bytes(
            "https://a.example/img.jpg", b"\xff\xd8\xff", content_type="image/jpeg", number=4
        )
        + warc_record_bytes(
            "https://a.example/gone", page("404", "missing"), status="404 Not Found", number=5
        )
        + warc_record_bytes(
            "https://a.example/r", page("R", "resource"), rec_type="resource", number=6
        )
    )
    result = read(tmp_path, "a.warc.gz", data)
    assert uris(result) == [
        "https://a.example/robots.txt",
        "https://a.example/p",
        "https://a.example/r",
    ]
    robots, page_record, resource = result.records
    assert robots["record_role"] == "robots.txt" and "Disallow: /x" in robots["text"]
    assert page_record["record_role"] == "page" and "<h1>P</h1>" in page_record["html"]
    assert {"name": "Content-Usage", "value": "train-ai=n"} in page_record["http_headers"]
    assert page_record["consent"] == [
        {
            "channel": "http:content-usage",
            "raw": "train-ai=n",
            "verdict": None,
            "location": "https://a.example/p",
        }
    ]
    assert page_record["http_status"] == 200
    assert resource["http_status"] is None and resource["record_role"] == "page"
    # Offsets point at the record in the file: reading from there yields the same record.
    assert page_record["provenance"]["offset"] > robots["provenance"]["offset"]
    assert result.quarantined == []
    assert dict(result.not_carried) == {
        "request record": 1,
        "non-HTML payload (image/jpeg)": 1,
        "HTTP status 4xx page": 1,
    }


def test_plain_and_gzip_give_the_same_records(tmp_path: Path) -> None:
    compressed = read(tmp_path, "a.warc.gz", b"".join(records(3)))
    plain = read(tmp_path, "a.warc", b"".join(records(3, gzip_members=False)))
    assert uris(compressed) == uris(plain) == [f"https://a.example/{i}" for i in (1, 2, 3)]
    assert [r["sha256"] for r in compressed.records] == [r["sha256"] for r in plain.records]


def test_record_with_broken_header_is_quarantined_and_the_rest_read(tmp_path: Path) -> None:
    one, two, three = records(3)
    broken = gzip.compress(gzip.decompress(two).replace(b"WARC/1.0", b"WXRC/9.9", 1))
    result = read(tmp_path, "a.warc.gz", one + broken + three)
    assert uris(result) == ["https://a.example/1", "https://a.example/3"]
    [bad] = result.quarantined
    assert bad["reason"] == "warc_unreadable"
    assert bad["offset"] == len(one)
    assert "WXRC/9.9" in bad["excerpt"]


def test_plain_record_without_content_length_does_not_swallow_the_next(tmp_path: Path) -> None:
    one, two, three = records(3, gzip_members=False)
    damaged = two.replace(b"Content-Length", b"Content-Lngth", 1)
    result = read(tmp_path, "a.warc", one + damaged + three)
    assert uris(result) == ["https://a.example/1", "https://a.example/3"]
    assert [q["reason"] for q in result.quarantined] == ["warc_unreadable"]


def test_too_large_content_length_is_quarantined_and_next_record_recovered(tmp_path: Path) -> None:
    one, two, three = records(3, gzip_members=False)
    damaged = two.replace(b"Content-Length: ", b"Content-Length: 9", 1)
    result = read(tmp_path, "a.warc", one + damaged + three)
    assert uris(result) == ["https://a.example/1", "https://a.example/3"]
    assert [q["reason"] for q in result.quarantined] == ["warc_truncated"]


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_gzip_keeps_complete_records_and_quarantines_the_tail(
    tmp_path: Path, cut: float
) -> None:
    one, two, three = records(3)
    result = read(tmp_path, "a.warc.gz", one + two + three[: int(len(three) * cut)])
    assert uris(result) == ["https://a.example/1", "https://a.example/2"]
    [bad] = result.quarantined
    assert bad["reason"] == "warc_truncated" and bad["offset"] == len(one + two)


def test_truncated_plain_file_quarantines_the_cut_record(tmp_path: Path) -> None:
    one, two = records(2, gzip_members=False)
    result = read(tmp_path, "a.warc", one + two[:-50])
    assert uris(result) == ["https://a.example/1"]
    assert [q["reason"] for q in result.quarantined] == ["warc_truncated"]


def test_whole_file_gzip_is_read_and_its_truncation_reported(tmp_path: Path) -> None:
    plain = b"".join(records(3, gzip_members=False))
    whole = gzip.compress(plain)
    assert uris(read(tmp_path, "whole.warc.gz", whole)) == [
        f"https://a.example/{i}" for i in (1, 2, 3)
    ]
    cut = read(tmp_path, "cut.warc.gz", whole[:-40])
    assert uris(cut)[:2] == ["https://a.example/1", "https://a.example/2"]
    assert cut.quarantined and all(q["reason"] == "warc_truncated" for q in cut.quarantined)


def test_non_utf8_html_is_decoded_by_its_declared_charset(tmp_path: Path) -> None:
    latin = (
        "<html><head><meta charset='windows-1252'></head><body><p>Café déjà vu</p></body></html>"
    )
    header_declared = "<html><body><p>Grüße aus Köln</p></body></html>"
    data = warc_record_bytes(
        "https://a.example/meta", latin.encode("cp1252"), content_type="text/html", number=1
    ) + warc_record_bytes(
        "https://a.example/header",
        header_declared.encode("latin-1"),
        content_type="text/html; charset=ISO-8859-1",
        number=2,
    )
    meta, header = read(tmp_path, "a.warc.gz", data).records
    assert "Café déjà vu" in meta["html"] and meta["encoding"] == "cp1252"
    assert "Grüße aus Köln" in header["html"] and header["encoding"] == "iso8859-1"


def test_a_file_that_is_not_a_warc_is_quarantined_not_raised(tmp_path: Path) -> None:
    result = read(tmp_path, "x.warc", b"<html>this is not a WARC</html>\n")
    assert result.records == []
    assert [q["reason"] for q in result.quarantined] == ["warc_unreadable"]


def test_empty_file_has_no_records_and_no_errors(tmp_path: Path) -> None:
    result = read(tmp_path, "empty.warc", b"")
    assert result.records == [] and result.quarantined == []


def test_ids_are_stable_and_content_addressed(tmp_path: Path) -> None:
    first = read(tmp_path, "a.warc.gz", b"".join(records(2)))
    again = read(tmp_path, "b.warc.gz", b"".join(records(2)))
    assert [r["id"] for r in first.records] == [r["id"] for r in again.records]
    changed = read(
        tmp_path,
        "c.warc.gz",
        warc_record_bytes("https://a.example/1", page("Page 1", "Edited"), number=1),
    )
    assert changed.records[0]["id"] != first.records[0]["id"]
