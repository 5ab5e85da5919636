"""`commons bench rules`: Commons' quality rules against datatrove's implementations of the
same published rules (C4QualityFilter, GopherQualityFilter, GopherRepetitionFilter,
FineWebQualityFilter) at equal settings, on the same real texts: the pages of both extraction
sets after Commons' extraction and normalisation, and the Project Gutenberg books of the texts
corpus with their wrapper stripped. Every text on which the two keep/drop decisions differ is
listed; each kind of difference is fixed or explained, with the paper it follows, in
`clean/quality.py`.

Then the per-kind part: each book under the curated-texts rules (the texts default) and under
the web-page rules, with what drops it, so the per-kind defaults rest on a measurement.
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from commons_assets.clean.extraction import extract_page
from commons_assets.clean.language import identify_language
from commons_assets.clean.normalise import normalise_text
from commons_assets.clean.quality import (
    QUALITY_BY_KIND,
    C4Rules,
    FineWebRules,
    GopherQuality,
    GopherRepetition,
    c4_document,
    c4_lines,
    fineweb,
    gopher_quality,
    gopher_repetition,
    judge,
)
from commons_assets.clean.wrappers import strip_wrapper
from commons_assets.sources.decoding import decode_body
from commons_bench.extraction import AEB_FOLDER, SNIPPET_FOLDER, load_articles, load_pages

GUTENBERG_FOLDER = Path("texts") / "gutenberg"
EDITIONS_FOLDER = Path("dedupe") / "gutenberg_editions"


@dataclass(frozen=True)
class Text:
    name: str  # corpus/identifier
    text: str
    language: str | None


def _page_text(html: str, url: str) -> str:
    extracted = extract_page(html, url).text or ""
    return normalise_text(extracted) if extracted.strip() else ""


def load_texts(corpora: Path) -> list[Text]:
    """The English texts the rules were published for, from every corpus that is present."""
    texts: list[Text] = []
    if (corpora / AEB_FOLDER / "ground-truth.json").exists():
        for article in load_articles(corpora / AEB_FOLDER):
            texts.append(_text(f"aeb/{article.name[:12]}", _page_text(article.html, "")))
    if (corpora / SNIPPET_FOLDER / "evaldata.json").exists():
        for page in load_pages(corpora / SNIPPET_FOLDER):
            texts.append(_text(f"snippets/{page.url[:60]}", _page_text(page.html, page.url)))
    texts.extend(load_books(corpora))
    return [text for text in texts if text.text and text.language == "en"]


def load_books(corpora: Path) -> list[Text]:
    """Gutenberg books (and their other editions), decoded and with their wrapper stripped."""
    books: list[Text] = []
    paths = sorted((corpora / GUTENBERG_FOLDER).glob("pg*/*.txt"))
    paths += sorted((corpora / EDITIONS_FOLDER).glob("*.txt.gz"))
    for path in paths:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        decoded, _ = decode_body(raw)
        books.append(_text(f"books/{path.name}", normalise_text(strip_wrapper(decoded)[0])))
    return books


def _text(name: str, text: str) -> Text:
    return Text(name, text, identify_language(text).language if text.strip() else None)


# Each family at its published values, ours and datatrove's, as (name, ours, theirs).
Decision = Callable[[str], str | None]


def families() -> list[tuple[str, Decision, Decision]]:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    def theirs(make: Callable[[], Any]) -> Decision:
        def decide(text: str) -> str | None:
            result = make().filter(Document(text=text, id="bench"))
            if result is True:
                return None
            return result[1] if isinstance(result, tuple) else "dropped"

        return decide

    def c4(rules: C4Rules) -> Decision:
        def decide(text: str) -> str | None:
            kept, _ = c4_lines(text, rules, "en")
            return c4_document(kept, rules)

        return decide

    return [
        ("c4 (published)", c4(C4Rules()), theirs(C4QualityFilter)),
        (
            "c4 without terminal punctuation (FineWeb)",
            c4(C4Rules(filter_no_terminal_punct=False)),
            theirs(lambda: C4QualityFilter(filter_no_terminal_punct=False)),
        ),
        (
            "gopher quality",
            lambda text: gopher_quality(text, GopherQuality(), "en"),
            theirs(GopherQualityFilter),
        ),
        (
            "gopher repetition",
            lambda text: gopher_repetition(text, GopherRepetition(), "en"),
            theirs(GopherRepetitionFilter),
        ),
        ("fineweb", lambda text: fineweb(text, FineWebRules(), "en"), theirs(FineWebQualityFilter)),
    ]


def compare(texts: list[Text]) -> int:
    """Print each family's agreement and every disagreement; returns the disagreement count."""
    total = 0
    for name, ours, theirs in families():
        disagreements = []
        dropped = Counter[str]()
        for text in texts:
            mine, other = ours(text.text), theirs(text.text)
            dropped["commons"] += mine is not None
            dropped["datatrove"] += other is not None
            if (mine is None) != (other is None):
                detail = getattr(mine, "detail", "")
                disagreements.append(
                    f"    {text.name:64s} commons: {mine or 'keep'}"
                    + (f" ({detail})" if detail else "")
                    + f" | datatrove: {other or 'keep'}"
                )
        total += len(disagreements)
        print(
            f"  {name}: {len(texts) - len(disagreements)}/{len(texts)} same decision; dropped "
            f"commons {dropped['commons']}, datatrove {dropped['datatrove']}; "
            f"{len(disagreements)} disagreement(s)"
        )
        for line in disagreements:
            print(line)
    return total


def per_kind(books: list[Text]) -> None:
    """Each book under the curated-texts default and under the web-page default."""
    print(f"per-kind rules on {len(books)} Gutenberg books and editions (wrapper stripped):")
    for kind in ("texts", "archives"):
        config = QUALITY_BY_KIND[kind]
        reasons = Counter[str]()
        for book in books:
            _, reason, _ = judge(book.text, config, book.language)
            reasons[str(reason) if reason else "kept"] += 1
        summary = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
        print(f"  {kind} defaults ({config.notes}): {summary}")


def run(corpora: Path) -> int:
    try:
        import datatrove  # noqa: F401
    except ImportError as error:
        print(f"datatrove is not installed ({error}): pip install -e '.[bench]'")
        return 2
    texts = load_texts(corpora)
    if not texts:
        print(f"no evaluation texts found under {corpora}")
        return 2
    books = [text for text in texts if text.name.startswith("books/")]
    print(
        f"quality rules, commons vs datatrove at published settings: {len(texts)} English texts "
        f"({len(texts) - len(books)} extracted pages, {len(books)} books)"
    )
    compare(texts)
    per_kind(books)
    return 0
