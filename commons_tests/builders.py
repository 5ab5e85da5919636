"""Small input files made inside the tests: WARCs, JSONL collections, images, social days."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

WARC_DATE = "2026-11-20T10:00:00Z"


def warc_record_bytes(
    uri: str,
    body: bytes,
    *,
    content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK",
    headers: Iterable[tuple[str, str]] = (),
    rec_type: str = "response",
    gzip: bool = True,
    number: int = 0,
    date: str = WARC_DATE,
) -> bytes:
    """One WARC record, serialised (one gzip member when gzip=True)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)
    warc_headers = {
        "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{number:012d}>",
        "WARC-Date": date,
    }
    http_headers = None
    if rec_type in ("response", "request"):
        http_headers = StatusAndHeaders(
            status if rec_type == "response" else f"GET {uri} HTTP/1.1",
            [("Content-Type", content_type), *headers],
            protocol="HTTP/1.1",
            is_http_request=rec_type == "request",
        )
    record = writer.create_warc_record(
        uri,
        rec_type,
        payload=io.BytesIO(body),
        length=len(body),
        warc_content_type=content_type if rec_type == "resource" else None,
        http_headers=http_headers,
        warc_headers_dict=warc_headers,
    )
    writer.write_record(record)
    return out.getvalue()


def page(title: str, paragraph: str, head: str = "") -> bytes:
    return (
        f"<html><head><title>{title}</title>{head}</head>"
        f"<body><article><h1>{title}</h1><p>{paragraph}</p></article></body></html>"
    ).encode()


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_png(path: Path, size: tuple[int, int] = (32, 24), colour: str = "teal") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="PNG")
    return path


def png_with_declared_size(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height but whose pixel data is tiny: the shape of a
    decompression bomb, cheap to make and harmful only to a reader that trusts the header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


SAMPLE_DAY = "2026-11-20"
FIRST_ESSAY = (
    "The first essay walks along the canal from the lock keeper's cottage to the old mill, "
    "where the water slows and the herons wait among the reeds for the morning light."
)
THIRD_ESSAY = (
    "The third essay is about the library's seed exchange: gardeners bring what they saved "
    "in autumn, label each packet by hand, and take home something new to plant in spring."
)
ALICE = "did:plc:testalice"
BOB = "did:plc:testbob"


def make_data_root(root: Path) -> Path:
    """A tiny data root with one partition of every source kind, good and bad inputs mixed."""
    sources = root / "sources"
    archive = sources / "archives" / "site-a.warc.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(
        warc_record_bytes(
            "https://a.example/robots.txt",
            b"User-agent: *\nAllow: /\n",
            content_type="text/plain",
            number=1,
        )
        + warc_record_bytes("https://a.example/one", b"", rec_type="request", number=2)
        + warc_record_bytes(
            "https://a.example/one",
            page(
                "One",
                "First page.",
                '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">',
            ),
            number=3,
        )
        + warc_record_bytes(
            "https://a.example/two",
            page("Two", "Second page."),
            headers=[("tdm-reservation", "1")],
            number=4,
        )
    )
    essays = sources / "texts" / "essays"
    essays.mkdir(parents=True, exist_ok=True)
    (essays / "collection.json").write_text(
        json.dumps({"licence": "CC-BY-4.0", "publisher": "Test"})
    )
    write_jsonl(
        essays / "part-1.jsonl",
        [
            {"id": "e1", "text": FIRST_ESSAY, "title": "First"},
            '{"id": "e2", "text": "cut off',
            {"id": "e3", "text": THIRD_ESSAY, "licence": "CC0-1.0", "author": "Ann"},
        ],
    )
    photos = sources / "images" / "photos"
    write_png(photos / "files" / "red.png", colour="red")
    (photos / "files" / "fake.png").write_text("not an image")
    write_jsonl(
        photos / "records.jsonl",
        [
            {"id": "red", "file": "files/red.png", "caption": "A red square", "licence": "CC0-1.0"},
            {"id": "fake", "file": "files/fake.png", "caption": "Not an image"},
        ],
    )
    day = sources / "social" / SAMPLE_DAY
    write_jsonl(
        day / "posts.jsonl",
        [
            {
                "uri": f"at://{ALICE}/app.bsky.feed.post/1",
                "did": ALICE,
                "text": "Hello",
                "created_at": f"{SAMPLE_DAY}T10:00:00Z",
                "langs": ["en"],
            },
            {
                "uri": f"at://{ALICE}/app.bsky.feed.post/2",
                "did": ALICE,
                "text": "Oops",
                "created_at": f"{SAMPLE_DAY}T11:00:00Z",
                "langs": ["en"],
            },
            {
                "uri": f"at://{BOB}/app.bsky.feed.post/1",
                "did": BOB,
                "text": "Hi all",
                "created_at": f"{SAMPLE_DAY}T12:00:00Z",
                "langs": ["en"],
            },
        ],
    )
    write_jsonl(
        day / "intents.jsonl",
        [
            {
                "did": ALICE,
                "record": {
                    "$type": "org.user-intents.declaration",
                    "syntheticContentGeneration": {"allow": True},
                    "bulkDataset": {"allow": True},
                },
            }
        ],
    )
    write_jsonl(day / "deletions.jsonl", [{"uri": f"at://{ALICE}/app.bsky.feed.post/2"}])
    return root
