"""Synthetic crawls for `commons bench scale`: WARC files of pages made from real page templates
and public-domain text, with a known share of sites that opt out of AI training and a known
share of duplicate pages.

A template is a real page (`../shared/corpora/extraction/html`, when present) with its text
removed and kept as markup: the head, scripts, styles, navigation structure and attributes a
crawler really meets. Each page gets its own main text (a passage of a Project Gutenberg book
from `../shared/corpora/texts/gutenberg`, else of the bundled sample's public-domain texts),
an article around it, a site's navigation and footer, and a CC BY licence link. Each site has a
robots.txt capture in every partition its pages are in; an opting-out site's robots.txt
disallows CCBot and GPTBot. A duplicate page repeats the main text of an earlier page of
another site (exact) or with one paragraph changed (near).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import html as lxml_html
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parents[1]
PAGES_PER_SITE = 25
OPT_OUT_ROBOTS = "User-agent: CCBot\nDisallow: /\n\nUser-agent: GPTBot\nDisallow: /\n"
OPEN_ROBOTS = "User-agent: *\nDisallow: /private/\n"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
CAPTURE_DAY = "2026-11-{day:02d}T{hour:02d}:00:00Z"
FALLBACK_TEMPLATE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>"
    "<style>body{font-family:serif}</style></head><body><div class='page'></div></body></html>"
)


@dataclass(frozen=True)
class CrawlFacts:
    """What a generated crawl holds: the expected shares, to print beside the results."""

    pages: int
    partitions: int
    sites: int
    opted_out_sites: int
    opted_out_pages: int
    duplicate_pages: int
    bytes: int


def templates(corpora: Path | None, limit: int = 60) -> list[str]:
    """Real pages emptied of their text (markup only), or one plain template without them."""
    folder = corpora / "extraction" / "html" if corpora else None
    if folder is None or not folder.is_dir():
        return [FALLBACK_TEMPLATE]
    found = []
    for path in sorted(folder.glob("*.html"))[:limit]:
        try:
            tree = lxml_html.fromstring(path.read_bytes())
        except (ValueError, lxml_html.etree.ParserError):
            continue
        body = tree.find("body")
        if body is None:
            continue
        for element in body.iter():
            if isinstance(element.tag, str) and element.tag not in ("script", "style"):
                element.text, element.tail = None, None
        found.append(lxml_html.tostring(tree, encoding="unicode"))
    return found or [FALLBACK_TEMPLATE]


def passages_source(corpora: Path | None) -> list[str]:
    """Words of public-domain books: Project Gutenberg texts when present, else the sample's."""
    books = []
    folder = corpora / "texts" / "gutenberg" if corpora else None
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*/*.txt")):
            text = path.read_text(encoding="utf-8", errors="replace")
            start = text.find("*** START")
            end = text.find("*** END")
            books.append(text[start if start >= 0 else 0 : end if end > 0 else None])
    if not books:
        for path in sorted((REPO / "data" / "sources" / "texts").glob("*/*.jsonl")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                with contextlib.suppress(ValueError, AttributeError):  # the sample's bad lines
                    books.append(str(json.loads(line).get("text") or ""))
    return [word for book in books for word in book.split()]


def _paragraphs(words: list[str], rng: random.Random) -> list[str]:
    length = rng.randint(300, 1200)
    start = rng.randrange(max(1, len(words) - length))
    passage = words[start : start + length]
    paragraphs, at = [], 0
    while at < len(passage):
        size = rng.randint(40, 120)
        text = " ".join(passage[at : at + size])
        paragraphs.append(text if text.endswith((".", "!", "?")) else text + ".")
        at += size
    return paragraphs


def page_html(template: str, site: int, number: int, paragraphs: list[str]) -> str:
    navigation = "".join(
        f"<li><a href='/s{n}'>Section {n} of site {site}</a></li>" for n in range(8)
    )
    article = (
        f"<header><nav><ul>{navigation}</ul></nav></header>"
        f"<main><article><h1>Chapter {number} at site {site}</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + f"</article></main><footer><p>Site {site} is published under "
        f"<a rel='license' href='{LICENCE}'>CC BY 4.0</a>. Contact, imprint, privacy.</p></footer>"
    )
    head_link = f"<link rel='license' href='{LICENCE}'>"
    page = re.sub(r"(?i)<head([^>]*)>", lambda m: m.group(0) + head_link, template, count=1)
    return re.sub(r"(?i)<body([^>]*)>", lambda m: m.group(0) + article, page, count=1)


def _record(writer: WARCWriter, uri: str, body: bytes, content_type: str, date: str) -> None:
    headers = StatusAndHeaders(
        "200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1", is_http_request=False
    )
    writer.write_record(
        writer.create_warc_record(
            uri,
            "response",
            payload=io.BytesIO(body),
            http_headers=headers,
            # As Common Crawl marks each payload's detected type (datatrove's reader keeps
            # text/html by it).
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Identified-Payload-Type": content_type.split(";")[0],
            },
        )
    )


def _pages(
    pages: int, opt_out_share: float, duplicate_share: float, corpora: Path | None, seed: int
) -> Iterator[tuple[int, str, str, bool]]:
    """(site, uri, html, duplicate) for every page, in crawl order."""
    rng = random.Random(seed)
    shapes, words = templates(corpora), passages_source(corpora)
    texts: list[list[str]] = []
    for number in range(pages):
        site = number // PAGES_PER_SITE
        duplicate = bool(texts) and rng.random() < duplicate_share
        if duplicate:
            paragraphs = list(rng.choice(texts))
            if rng.random() < 0.5 and len(paragraphs) > 2:  # a near copy: one paragraph edited
                paragraphs[-1] = " ".join(reversed(paragraphs[-1].split()))
        else:
            paragraphs = _paragraphs(words, rng)
            if len(texts) < 2000:
                texts.append(paragraphs)
        template = shapes[site % len(shapes)]
        uri = f"https://site{site}.example/article/{number}"
        yield site, uri, page_html(template, site, number, paragraphs), duplicate


def opted_out(site: int, opt_out_share: float, seed: int) -> bool:
    return random.Random(f"{seed}:{site}").random() < opt_out_share


def generate_crawl(
    folder: Path,
    pages: int,
    partition_pages: int,
    opt_out_share: float,
    duplicate_share: float = 0.1,
    corpora: Path | None = None,
    seed: int = 20261203,
) -> CrawlFacts:
    """Write `pages` pages as WARC files of `partition_pages` pages each into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = duplicates = opted_pages = 0
    sites: set[int] = set()
    out_sites: set[int] = set()
    partitions = 0
    stream = None
    writer = None
    robots_written: set[int] = set()
    for site, uri, page, duplicate in _pages(pages, opt_out_share, duplicate_share, corpora, seed):
        if written % partition_pages == 0:
            if stream is not None:
                stream.close()
            partitions += 1
            stream = (folder / f"crawl-{partitions:04d}.warc.gz").open("wb")
            writer = WARCWriter(stream, gzip=True)
            robots_written = set()
        assert writer is not None
        date = CAPTURE_DAY.format(day=1 + partitions % 28, hour=written % 24)
        if site not in robots_written:
            robots = OPT_OUT_ROBOTS if opted_out(site, opt_out_share, seed) else OPEN_ROBOTS
            _record(
                writer,
                f"https://site{site}.example/robots.txt",
                robots.encode(),
                "text/plain",
                date,
            )
            robots_written.add(site)
        _record(writer, uri, page.encode("utf-8"), "text/html; charset=utf-8", date)
        written += 1
        duplicates += duplicate
        sites.add(site)
        if opted_out(site, opt_out_share, seed):
            out_sites.add(site)
            opted_pages += 1
    if stream is not None:
        stream.close()
    size = sum(path.stat().st_size for path in folder.glob("*.warc.gz"))
    return CrawlFacts(
        written, partitions, len(sites), len(out_sites), opted_pages, duplicates, size
    )
