"""`commons bench extraction`: main-text extraction accuracy and speed against trafilatura's
plain `extract()` with default settings, on trafilatura's own evaluation pages.

Accuracy is trafilatura's snippet metric: the share of expected snippets (`with`) found in the
output plus unexpected snippets (`without`) absent, over all snippets. Speed is pages per
second of CPU time in this process (one core). Both extractors get the same decoded HTML.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trafilatura

from commons_assets.clean import xpath_guards
from commons_assets.clean.documents import clean_pages
from commons_assets.clean.extraction import extract_page
from commons_assets.clean.language import identify_language
from commons_assets.clean.normalise import normalise_text
from commons_assets.clean.quality import PRESETS, QUALITY_BY_KIND, judge
from commons_assets.clean.settings import CleanSettings
from commons_assets.records import Record
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
    """Plain trafilatura: scored inside `xpath_guards.as_released()` (see `run`)."""
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
            # trafilatura's own expressions for the baseline, swapped once per round, not per page
            with xpath_guards.as_released() if name == "baseline" else contextlib.nullcontext():
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


# --- both corpora, halves, and Commons after each clean step (issue "Keep the text") ----------

AEB_FOLDER = "extraction_aeb"
SNIPPET_FOLDER = "extraction"
SHINGLE = 4
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Article:
    name: str
    html: str
    body: str  # the page's full expected article text


def load_articles(corpus: Path) -> list[Article]:
    """The article-body set: `ground-truth.json` (name -> {articleBody}), `html/NAME.html.gz`."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    articles = []
    for name in sorted(truth):
        path = corpus / "html" / f"{name}.html.gz"
        if path.exists():
            html, _ = decode_body(gzip.decompress(path.read_bytes()))
            articles.append(Article(name, html, truth[name].get("articleBody") or ""))
    return articles


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + size]) for i in range(max(len(words) - size + 1, 0))}


def shingle_scores(extracted: str, expected: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of word 4-gram shingles, the article-body benchmark's metric; an
    empty extraction scores 0."""
    got, want = shingles(extracted), shingles(expected)
    if not got or not want:
        return 0.0, 0.0, 0.0
    common = len(got & want)
    precision, recall = common / len(got), common / len(want)
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


def halves(items: list[Any]) -> dict[str, list[Any]]:
    """Even positions (by name) to choose settings on, odd ones to report on."""
    return {"tuning": items[0::2], "reporting": items[1::2]}


def commons_steps(
    html: str, url: str, presets: tuple[str, ...] = ()
) -> tuple[dict[str, str], dict[str, str | None]]:
    """Commons' text after each step of the clean stage for a web page under the default rules,
    and its final text under each named preset; with the drop reason of each rule set."""
    extracted = extract_page(html, url).text or ""
    normalised = normalise_text(extracted) if extracted.strip() else ""
    language = identify_language(normalised).language if normalised else None
    texts = {COMMONS_STEPS[0]: extracted, COMMONS_STEPS[1]: normalised}
    reasons: dict[str, str | None] = {}
    rule_sets = [("default", QUALITY_BY_KIND["archives"]), *((n, PRESETS[n]) for n in presets)]
    for name, config in rule_sets:
        filtered, reason, _ = judge(normalised, config, language) if normalised else ("", None, 0)
        reason = reason if normalised else "no_main_text"
        if name == "default":
            texts[COMMONS_STEPS[2]] = filtered
            texts[COMMONS_STEPS[3]] = "" if reason else filtered
        else:
            texts[f"preset {name} (final)"] = "" if reason else filtered
        reasons[name] = str(reason) if reason else None
    return texts, reasons


COMMONS_STEPS = (
    "commons extraction",
    "commons + normalisation",
    "commons + line filters",
    "commons + document rules (final)",
)
TRAFILATURA: dict[str, dict[str, Any]] = {
    "trafilatura default": {},
    "trafilatura favor_precision": {"favor_precision": True},
    "trafilatura favor_recall": {"favor_recall": True},
}
# The published rule sets the default departs from, measured on the same pages.
COMPARED_PRESETS = ("fineweb", "c4")
SYSTEMS = (
    *TRAFILATURA,
    *COMMONS_STEPS,
    *(f"preset {name} (final)" for name in COMPARED_PRESETS),
)
RULE_SETS = ("default", *COMPARED_PRESETS)


def outputs(html: str, url: str) -> tuple[dict[str, str], dict[str, str | None]]:
    with xpath_guards.as_released():
        texts = {
            name: trafilatura.extract(html, **options) or ""
            for name, options in TRAFILATURA.items()
        }
    steps, reasons = commons_steps(html, url, COMPARED_PRESETS)
    return texts | steps, reasons


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _page_row(html: str, url: str, number: int) -> Record:
    """A web page as the archive reader hands it to the clean stage."""
    return {
        "id": f"bench-{number}",
        "source_kind": "archives",
        "source_partition": "bench",
        "source_id": url or f"page-{number}",
        "source_uri": url,
        "record_role": "page",
        "html": html,
        "language": None,
        "date": None,
        "consent": [],
        "provenance": {"steps": []},
    }


def _throughput(htmls: list[tuple[str, str]], rounds: int = 3) -> tuple[float, float]:
    """Pages per CPU-second: plain trafilatura, and the clean stage's own function on the same
    pages (extraction with evidence and metadata, normalisation, language, rules, PII); the
    best of alternating rounds, so that both see the same machine state."""
    rows = [_page_row(html, url, number) for number, (html, url) in enumerate(htmls)]
    settings = CleanSettings(quality=dict(QUALITY_BY_KIND))
    plain = ours = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        with xpath_guards.as_released():
            for html, _ in htmls:
                trafilatura.extract(html)
        plain = min(plain, time.process_time() - started)
        started = time.process_time()
        clean_pages(rows, settings)
        ours = min(ours, time.process_time() - started)
    return len(htmls) / plain if plain else 0.0, len(htmls) / ours if ours else 0.0


def run_both(corpora: Path) -> int:
    """Both evaluation sets, each split in a tuning and a reporting half: every system's scores,
    the drops of every quality rule, and throughput against plain trafilatura."""
    articles_at, snippets_at = corpora / AEB_FOLDER, corpora / SNIPPET_FOLDER
    if (
        not (articles_at / "ground-truth.json").exists()
        and not (snippets_at / "evaldata.json").exists()
    ):
        print(f"extraction corpora not found under {corpora} ({AEB_FOLDER}/, {SNIPPET_FOLDER}/)")
        return 2
    if (articles_at / "ground-truth.json").exists():
        articles = load_articles(articles_at)
        _report_articles(articles)
        _report_guards(AEB_FOLDER, [(a.html, "") for a in articles])
    if (snippets_at / "evaldata.json").exists():
        pages = load_pages(snippets_at)
        _report_snippets(pages)
        _report_guards(SNIPPET_FOLDER, [(p.html, p.url) for p in pages])
    return 0


def _report_guards(corpus: str, htmls: list[tuple[str, str]], rounds: int = 3) -> None:
    """The clean stage's extraction with trafilatura's expressions guarded (xpath_guards.py)
    and as released: pages whose text differs (the guards must change none), and pages per
    CPU-second of each (best of alternating rounds)."""
    xpath_guards.install()
    seconds = {"released": float("inf"), "guarded": float("inf")}
    texts: dict[str, list[str | None]] = {}
    for _ in range(rounds):
        for name in seconds:
            started = time.process_time()
            with xpath_guards.as_released() if name == "released" else contextlib.nullcontext():
                texts[name] = [extract_page(html, url).text for html, url in htmls]
            seconds[name] = min(seconds[name], time.process_time() - started)
    differ = sum(a != b for a, b in zip(texts["released"], texts["guarded"], strict=True))
    rate = {name: len(htmls) / spent if spent else 0.0 for name, spent in seconds.items()}
    print(
        f"  xpath guards ({corpus}): text differs on {differ}/{len(htmls)} pages; extract_page "
        f"{rate['released']:.1f} pages/CPU-s with trafilatura's expressions, "
        f"{rate['guarded']:.1f} guarded: {rate['guarded'] / rate['released']:.2f}x"
    )


def _report_articles(articles: list[Article]) -> None:
    results = [(article, *outputs(article.html, "")) for article in articles]
    split = halves(results)
    print(
        f"article bodies ({AEB_FOLDER}): {len(articles)} pages, "
        f"{len(split['tuning'])} tuning / {len(split['reporting'])} reporting (even/odd by name); "
        f"word {SHINGLE}-gram shingle precision / recall / F1, mean per page"
    )
    print(f"  {'system':34s} {'tuning P   R    F1':>20s}   {'reporting P   R    F1':>23s}")
    for system in SYSTEMS:
        cells = []
        for half in ("tuning", "reporting"):
            scores = [shingle_scores(texts[system], a.body) for a, texts, _ in split[half]]
            cells.append(" ".join(f"{_mean([s[i] for s in scores]):.3f}" for i in range(3)))
        print(f"  {system:34s} {cells[0]:>20s}   {cells[1]:>23s}")
    _report_drops(split)
    plain, ours = _throughput([(a.html, "") for a in articles])
    print(
        f"  throughput: trafilatura {plain:.1f} pages/CPU-s, commons clean stage (clean_pages) "
        f"{ours:.1f}: {ours / plain if plain else 0:.2f}x (goal >= {THROUGHPUT_GOAL}x)"
    )


def _report_snippets(pages: list[Page]) -> None:
    results = [(page, *outputs(page.html, page.url)) for page in pages]
    split = halves(sorted(results, key=lambda r: r[0].url))
    print(
        f"snippets ({SNIPPET_FOLDER}): {len(pages)} pages, {len(split['tuning'])} tuning / "
        f"{len(split['reporting'])} reporting; accuracy = expected found + unexpected absent"
    )
    for system in SYSTEMS:
        cells = []
        for half in ("tuning", "reporting"):
            found = total = 0
            for page, texts, _ in split[half]:
                found += sum(s in texts[system] for s in page.expected)
                found += sum(s not in texts[system] for s in page.unexpected)
                total += len(page.expected) + len(page.unexpected)
            cells.append(f"{found / total if total else 0:.3f}")
        print(f"  {system:34s} tuning {cells[0]}   reporting {cells[1]}")
    _report_drops(split)


def _report_drops(split: dict[str, list[Any]]) -> None:
    """Pages dropped by each rule set in each half, by rule."""
    for rule_set in RULE_SETS:
        cells = []
        for half in ("tuning", "reporting"):
            reasons = Counter(r[rule_set] for _, _, r in split[half] if r[rule_set])
            pages = len(split[half])
            dropped = sum(reasons.values())
            by_rule = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
            cells.append(
                f"{half} {dropped}/{pages} ({dropped / pages if pages else 0:.1%})"
                + (f": {by_rule}" if by_rule else "")
            )
        print(f"  dropped, {rule_set} rules: " + "; ".join(cells))
