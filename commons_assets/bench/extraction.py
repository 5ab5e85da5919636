"""`commons bench extraction`: main-text extraction accuracy and speed against trafilatura's
plain `extract()` with default settings, on trafilatura's own evaluation pages.

Accuracy is trafilatura's snippet metric: the share of expected snippets (`with`) found in the
output plus unexpected snippets (`without`) absent, over all snippets. Speed is pages per
second of CPU time in this process (one core). Both extractors get the same decoded HTML.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from commons_assets.clean.extraction import extract_page
from commons_assets.sources.decoding import decode_body

ACCURACY_FLOOR = 0.92  # trafilatura's own evaluation floor for this set
THROUGHPUT_GOAL = 0.9  # x baseline, despite the evidence extraction


@dataclass(frozen=True)
class Page:
    url: str
    html: str
    expected: tuple[str, ...]
    unexpected: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    accuracy: float
    pages_per_second: float


def load_pages(corpus: Path) -> list[Page]:
    evaluation = json.loads((corpus / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url, entry in evaluation.items():
        path = corpus / "html" / entry["file"]
        if path.exists():
            html, _ = decode_body(path.read_bytes())
            pages.append(Page(url, html, tuple(entry["with"]), tuple(entry["without"])))
    return pages


def score(pages: list[Page], extract: Callable[[Page], str | None]) -> Score:
    found = total = 0
    started = time.process_time()
    outputs = [extract(page) or "" for page in pages]
    elapsed = time.process_time() - started
    for page, text in zip(pages, outputs, strict=True):
        found += sum(snippet in text for snippet in page.expected)
        found += sum(snippet not in text for snippet in page.unexpected)
        total += len(page.expected) + len(page.unexpected)
    return Score(found / total if total else 0.0, len(pages) / elapsed if elapsed else 0.0)


def baseline(page: Page) -> str | None:
    return trafilatura.extract(page.html)


def commons(page: Page) -> str | None:
    return extract_page(page.html, page.url).text


def run(corpus: Path, rounds: int = 2) -> int:
    """Print both lines and the ratios; returns a process exit code."""
    if not (corpus / "evaldata.json").exists():
        print(f"extraction corpus not found at {corpus} (it ships in ../shared/corpora/extraction)")
        return 2
    pages = load_pages(corpus)
    print(f"extraction benchmark: {len(pages)} pages from {corpus}, best of {rounds} rounds")
    best: dict[str, Score] = {}
    for _ in range(rounds):  # alternate, so both see the same machine state
        for name, extractor in (("baseline", baseline), ("commons", commons)):
            result = score(pages, extractor)
            if name not in best or result.pages_per_second > best[name].pages_per_second:
                best[name] = result
    base, ours = best["baseline"], best["commons"]
    print(
        f"  baseline  trafilatura.extract(), defaults        accuracy {base.accuracy:.4f}  "
        f"{base.pages_per_second:6.1f} pages/s/core"
    )
    print(
        f"  commons   extract_page(): text + evidence + meta  accuracy {ours.accuracy:.4f}  "
        f"{ours.pages_per_second:6.1f} pages/s/core"
    )
    accuracy_ratio = ours.accuracy / base.accuracy if base.accuracy else 0.0
    speed_ratio = ours.pages_per_second / base.pages_per_second if base.pages_per_second else 0
    met = ours.accuracy >= max(base.accuracy, ACCURACY_FLOOR) and speed_ratio >= THROUGHPUT_GOAL
    print(
        f"  ratios: accuracy {accuracy_ratio:.3f}x, throughput {speed_ratio:.2f}x baseline "
        f"(goal: accuracy >= baseline and >= {ACCURACY_FLOOR}, throughput >= "
        f"{THROUGHPUT_GOAL}x): {'met' if met else 'NOT met'}"
    )
    return 0
