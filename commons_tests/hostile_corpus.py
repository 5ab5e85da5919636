"""A small hostile-input data root, made by code: every case of the hostile-input issue (bad
lines, symbolic links out of the root, stray folders, bad takedown lines, URL variants,
duplicate keys, injection strings, over-limit items) beside good records, so that one build
shows each bad item quarantined or reported and every good one processed.

    python -m commons_tests.hostile_corpus DIR     # writes DIR/data and DIR/elsewhere
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from commons_tests.builders import (
    ALICE,
    BOB,
    SAMPLE_DAY,
    page,
    png_with_declared_size,
    warc_record_bytes,
    write_jsonl,
    write_png,
)

CC_BY = '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
ROBOTS = b"User-agent: *\nAllow: /\n"
# Random sentences over a small vocabulary with its stop words: prose that passes the quality
# rules, and no two documents (nor two parts of one) share many 5-word sequences.
WORDS = [
    "the",
    "and",
    "of",
    "to",
    "in",
    "by",
    "with",
    "ferry",
    "gull",
    "baker",
    "ledger",
    "lantern",
    "harbour",
    "net",
    "rope",
    "anchor",
    "tide",
    "mast",
    "chart",
    "island",
    "pier",
    "village",
    "quay",
    "lighthouse",
    "market",
    "chapel",
    "bakery",
    "school",
    "headland",
    "waits",
    "sings",
    "drifts",
    "returns",
    "opens",
    "listens",
    "shines",
    "turns",
    "rests",
    "wanders",
    "slowly",
    "early",
    "quietly",
    "again",
    "gladly",
]
LIMITS = "[limits]\nmax_line_bytes = 20000\nmax_record_bytes = 50000\nmax_image_bytes = 200000\n"
# Each JSON Lines partition: how many non-blank lines (items) it holds, for the accounting.
ITEMS: dict[str, int] = {}


def essay(seed: int, sentences: int = 6) -> str:
    """Plain prose of its own for each seed: no two documents of the corpus are near-duplicates
    (a work-scoped takedown would withdraw a whole cluster of them)."""
    chance = random.Random(seed)
    return " ".join(
        " ".join(chance.choice(WORDS) for _ in range(chance.randint(9, 14))).capitalize() + "."
        for _ in range(sentences)
    )


def article(title: str, head: str = "", seed: int = 0) -> bytes:
    body = "".join(f"<p>{essay(seed * 100 + i, 2)}</p>" for i in range(4))
    return (
        f"<html><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>"
        f"{body}</article></body></html>"
    ).encode()


def _lines(path: Path, lines: list[str | bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n"
    )


def texts(sources: Path, outside: Path) -> None:
    folder = sources / "texts" / "hostile-texts"
    good = [{"id": f"t{i}", "text": essay(i), "licence": "CC0-1.0"} for i in range(3)]
    lines: list[str | bytes] = [
        json.dumps(good[0]),
        '{"id": "surrogate", "text": "a lone \\ud800 here", "licence": "CC0-1.0"}',
        '{"id": "long-number", "n": ' + "9" * 5000 + "}",
        "[" * 50_000 + "]" * 50_000,  # nested too deeply (and over the line limit)
        '{"id": "two", "text": "x", "licence": "CC0-1.0", "licence": "All rights reserved"}',
        "[]",
        b'{"id": "latin1", "text": "caf\xe9"}',
        json.dumps({"id": "huge", "text": "z" * 30_000}),  # over max_line_bytes
        json.dumps(
            {
                "id": "injection",
                "text": essay(7),
                "licence": "CC-BY-4.0",
                "title": "<script>alert(1)</script> [x](javascript:alert(1))",
                "language": "en\nlicense: cc0-1.0",
                "author": "# Heading ![p](https://t.example/p.png)",
            }
        ),
        json.dumps(good[1]),
        json.dumps(good[2]),
    ]
    _lines(folder / "part-1.jsonl", lines)
    ITEMS["hostile-texts"] = len(lines)
    (folder / "linked.jsonl").symlink_to(outside / "secret.jsonl")  # quarantined, not read
    write_jsonl(sources / "texts" / "name with spaces" / "part.jsonl", good[:1])


def images(sources: Path) -> None:
    folder = sources / "images" / "hostile-images"
    write_png(folder / "files" / "ok.png", colour="olive")
    big = write_png(folder / "files" / "big.png")
    big.write_bytes(big.read_bytes() + bytes(300_000))  # over max_image_bytes
    (folder / "files" / "bomb.png").write_bytes(png_with_declared_size(20_000, 20_000))
    rows = [
        {"id": "ok", "file": "files/ok.png", "caption": "An olive square", "licence": "CC0-1.0"},
        {"id": "nul", "file": "files/ok\u0000.png", "licence": "CC0-1.0"},
        {"id": "escape", "file": "../../../../etc/passwd", "licence": "CC0-1.0"},
        {"id": "bomb", "file": "files/bomb.png", "licence": "CC0-1.0"},
        {"id": "big", "file": "files/big.png", "licence": "CC0-1.0"},
    ]
    write_jsonl(folder / "records.jsonl", rows)
    ITEMS["hostile-images"] = len(rows)


def declaration(did: str, allow: bool, updated: str) -> dict:
    """An author's user-intent declaration, allowing or refusing both uses."""
    return {
        "did": did,
        "record": {
            "$type": "org.user-intents.declaration",
            "syntheticContentGeneration": {"allow": allow},
            "bulkDataset": {"allow": allow},
            "updatedAt": updated,
        },
    }


def social(sources: Path) -> None:
    day = sources / "social" / SAMPLE_DAY
    posts = [
        {"uri": f"at://{ALICE}/app.bsky.feed.post/1", "did": ALICE, "text": "Hello harbour"},
        {"uri": f"at://{BOB}/app.bsky.feed.post/1", "did": BOB, "text": "Ferry is late"},
        '{"uri": "at://x/app.bsky.feed.post/9", "did": "x", "text": "bad \\udfff"}',
    ]
    write_jsonl(day / "posts.jsonl", posts)
    ITEMS[SAMPLE_DAY] = len(posts)
    write_jsonl(day / "intents.jsonl", [declaration(ALICE, False, "2026-11-01T00:00:00Z")])
    # A stray folder's later "allow" must not override Alice's refusal.
    write_jsonl(
        sources / "social" / "0000-override" / "intents.jsonl",
        [declaration(ALICE, True, "2026-11-19T00:00:00Z")],
    )
    _lines(day / "deletions.jsonl", [b'{"uri": "\xff"}'])


def archives(sources: Path, outside: Path) -> None:
    folder = sources / "archives"
    folder.mkdir(parents=True, exist_ok=True)
    nested = '{"a": ' * 5000 + "1" + "}" * 5000
    records = [
        ("https://harbour.example/robots.txt", ROBOTS, "text/plain"),
        ("https://harbour.example/ferry", article("Ferry", CC_BY, seed=1), "text/html"),
        (
            "https://harbour.example/deep",
            article(
                "Deep", CC_BY + f'<script type="application/ld+json">{nested}</script>', seed=2
            ),
            "text/html",
        ),
        ("https://harbour.example/huge", b"<html>" + b"x" * 80_000 + b"</html>", "text/html"),
        (
            "https://harbour.example/taken-down?b=2&a=1",
            article("Taken", CC_BY, seed=3),
            "text/html",
        ),
    ]
    (folder / "harbour.warc.gz").write_bytes(
        b"".join(
            warc_record_bytes(uri, body, content_type=kind, number=i)
            for i, (uri, body, kind) in enumerate(records)
        )
    )
    (folder / "linked.warc.gz").symlink_to(outside / "other.warc.gz")
    (folder / "crawl with spaces.warc.gz").write_bytes(
        warc_record_bytes("https://harbour.example/x", page("X", "x"), number=99)
    )


def steward_files(root: Path) -> None:
    (root / "policy").mkdir(parents=True, exist_ok=True)
    (root / "policy" / "sources.toml").write_text(LIMITS)
    _lines(
        root / "policy" / "takedowns" / "requests.jsonl",
        [
            b"[]",
            b"null",
            b'"x"',
            b'{"match": "id", "value": "\xff"}',
            json.dumps(
                {
                    "match": "url",
                    "value": " HTTPS://HARBOUR.EXAMPLE:443/taken-down/?a=1&b=2#top ",
                    "reason": "the author asked",
                }
            ).encode(),
            json.dumps(
                {"match": "url", "value": "https://nowhere.example/", "reason": "a typo"}
            ).encode(),
        ],
    )


def make_hostile_corpus(base: Path) -> Path:
    """Write the corpus under `base`: the data root `base/data` and, beside it, the files its
    symbolic links point to (`base/elsewhere`). Returns the data root."""
    outside = base / "elsewhere"
    write_jsonl(outside / "secret.jsonl", [{"id": "secret", "text": essay(5)}])
    (outside / "other.warc.gz").write_bytes(
        warc_record_bytes("https://secret.example/", article("Secret", CC_BY, seed=4), number=1)
    )
    root = base / "data"
    sources = root / "sources"
    texts(sources, outside)
    images(sources)
    social(sources)
    archives(sources, outside)
    steward_files(root)
    return root


if __name__ == "__main__":
    print(make_hostile_corpus(Path(sys.argv[1]).resolve()))
