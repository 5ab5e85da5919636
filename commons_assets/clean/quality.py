"""Quality heuristics with published thresholds. Each rule returns None to keep a document, or
the reason it fails; thresholds are frozen dataclasses whose defaults are the published values,
so a run's settings can be printed into its metadata.

Sources:
- Gopher: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from Training
  Gopher", Appendix A.1.1 (quality filters) and Table A1 (repetition filters); defaults as in
  datatrove's GopherQualityFilter / GopherRepetitionFilter.
- C4: Raffel et al. 2020, "Exploring the Limits of Transfer Learning…", §2.2; defaults as in
  datatrove's C4QualityFilter.
- FineWeb: Penedo et al. 2024, "The FineWeb Datasets", §3.3 (custom filters); defaults as in
  datatrove's FineWebQualityFilter.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

WORD = re.compile(r"\S+")
STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})  # Gopher A.1.1
BULLETS = ("•", "●", "○", "▪", "◦", "*", "-", "\u2013", "‣")
ELLIPSES = ("...", "…")
# C4 §2.2 ("terminal punctuation"), with closing typographic quotes.
TERMINAL_PUNCTUATION = (".", "!", "?", '"', "\u201d", "\u2019", "'")
C4_POLICY_PHRASES = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


def words(text: str) -> list[str]:
    return WORD.findall(text)


class Drop(str):
    """A rule's drop reason (compares as the plain reason) carrying what was measured against
    which limit, so that `commons trace` and `lake/_dropped` say why in numbers: a subclass of
    str keeps every rule's contract (None or the reason) for callers that need only the name."""

    detail: str

    def __new__(cls, reason: str, measured: float, comparison: str, limit: float) -> Drop:
        drop = super().__new__(cls, reason)
        value = f"{measured:.3g}" if isinstance(measured, float) else str(measured)
        drop.detail = f"measured {value} {comparison} limit {limit}"
        return drop


# ---------------------------------------------------------------------------------------------
# Gopher quality (Rae et al. 2021, A.1.1)


@dataclass(frozen=True)
class GopherQuality:
    min_doc_words: int = 50
    max_doc_words: int = 100_000
    min_avg_word_length: float = 3
    max_avg_word_length: float = 10
    max_symbol_word_ratio: float = 0.1  # "#" and ellipses per word
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    max_non_alpha_words_ratio: float = 0.8  # at least 80% of words contain a letter
    min_stop_words: int = 2


def gopher_quality(
    text: str, rules: GopherQuality = GopherQuality(), language: str | None = "en"
) -> str | None:
    """Gopher's quality rules. The stop-word rule uses Gopher's English stop words, so it only
    applies to English text (Gopher and FineWeb filtered English only)."""
    tokens = words(text)
    n = len(tokens)
    if n < rules.min_doc_words:
        return Drop("gopher_short_doc", n, "<", rules.min_doc_words)
    if n > rules.max_doc_words:
        return Drop("gopher_long_doc", n, ">", rules.max_doc_words)
    mean_length = sum(len(t) for t in tokens) / n
    if mean_length < rules.min_avg_word_length:
        return Drop("gopher_below_avg_word_length", mean_length, "<", rules.min_avg_word_length)
    if mean_length > rules.max_avg_word_length:
        return Drop("gopher_above_avg_word_length", mean_length, ">", rules.max_avg_word_length)
    symbols = text.count("#") + sum(text.count(e) for e in ELLIPSES)
    if symbols / n > rules.max_symbol_word_ratio:
        return Drop("gopher_too_many_symbols", symbols / n, ">", rules.max_symbol_word_ratio)
    lines = [line for line in text.splitlines() if line.strip()]
    bullets = sum(line.lstrip().startswith(BULLETS) for line in lines) / max(len(lines), 1)
    if bullets > rules.max_bullet_lines_ratio:
        return Drop("gopher_too_many_bullets", bullets, ">", rules.max_bullet_lines_ratio)
    ellipsis = sum(line.rstrip().endswith(ELLIPSES) for line in lines) / max(len(lines), 1)
    if ellipsis > rules.max_ellipsis_lines_ratio:
        return Drop("gopher_too_many_ellipsis_lines", ellipsis, ">", rules.max_ellipsis_lines_ratio)
    alpha = sum(any(c.isalpha() for c in t) for t in tokens) / n
    if alpha < rules.max_non_alpha_words_ratio:
        return Drop("gopher_below_alpha_threshold", alpha, "<", rules.max_non_alpha_words_ratio)
    stop_words = sum(t.lower().strip(".,;:!?\"'") in STOP_WORDS for t in tokens)
    if language == "en" and stop_words < rules.min_stop_words:
        return Drop("gopher_enough_stop_words", stop_words, "<", rules.min_stop_words)
    return None


# ---------------------------------------------------------------------------------------------
# Gopher repetition (Rae et al. 2021, Table A1)


@dataclass(frozen=True)
class GopherRepetition:
    dup_line_frac: float = 0.3
    dup_para_frac: float = 0.3
    dup_line_char_frac: float = 0.2
    dup_para_char_frac: float = 0.2
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = (
        (5, 0.15),
        (6, 0.14),
        (7, 0.13),
        (8, 0.12),
        (9, 0.11),
        (10, 0.10),
    )


def _duplicates(elements: list[str]) -> tuple[int, int]:
    """(number of elements that repeat an earlier one, characters in them)."""
    seen: set[str] = set()
    count = chars = 0
    for element in elements:
        if element in seen:
            count += 1
            chars += len(element)
        else:
            seen.add(element)
    return count, chars


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _top_ngram_char_fraction(tokens: list[str], n: int) -> float:
    grams = _ngrams(tokens, n)
    if not grams:
        return 0.0
    gram, count = Counter(grams).most_common(1)[0]
    total = sum(len(t) for t in tokens)
    return len("".join(gram)) * count / total if total else 0.0


def _dup_ngram_char_fraction(tokens: list[str], n: int) -> float:
    """Share of characters in words covered by an n-gram that occurs more than once."""
    grams = _ngrams(tokens, n)
    if not grams:
        return 0.0
    counts = Counter(grams)
    covered = [False] * len(tokens)
    for start, gram in enumerate(grams):
        if counts[gram] > 1:
            for i in range(start, start + n):
                covered[i] = True
    total = sum(len(t) for t in tokens)
    return (
        sum(len(t) for t, hit in zip(tokens, covered, strict=True) if hit) / total if total else 0
    )


def gopher_repetition(text: str, rules: GopherRepetition = GopherRepetition()) -> str | None:
    paragraphs = [p.strip() for p in re.split(r"\n{2,}", text) if p.strip()]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for unit, elements, frac_limit, char_limit in (
        ("para", paragraphs, rules.dup_para_frac, rules.dup_para_char_frac),
        ("line", lines, rules.dup_line_frac, rules.dup_line_char_frac),
    ):
        count, chars = _duplicates(elements)
        if (share := count / max(len(elements), 1)) > frac_limit:
            return Drop(f"gopher_dup_{unit}_frac", share, ">", frac_limit)
        if (share := chars / max(len(text), 1)) > char_limit:
            return Drop(f"gopher_dup_{unit}_char_frac", share, ">", char_limit)
    tokens = words(text)
    for n, limit in rules.top_n_grams:
        if (share := _top_ngram_char_fraction(tokens, n)) > limit:
            return Drop(f"gopher_top_{n}_gram", share, ">", limit)
    for n, limit in rules.dup_n_grams:
        if (share := _dup_ngram_char_fraction(tokens, n)) > limit:
            return Drop(f"gopher_duplicated_{n}_n_grams", share, ">", limit)
    return None


# ---------------------------------------------------------------------------------------------
# C4 (Raffel et al. 2020, §2.2): a line filter, then document rules on what remains


@dataclass(frozen=True)
class C4Rules:
    min_words_per_line: int = 3
    max_word_length: int = 1000
    min_num_sentences: int = 5


def c4_lines(text: str, rules: C4Rules = C4Rules()) -> tuple[str, Counter[str]]:
    """Keep only lines that C4 keeps; returns (text, removed lines by reason)."""
    kept: list[str] = []
    removed: Counter[str] = Counter()
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            kept.append(line)
            continue
        lower = stripped.lower()
        if any(len(word) > rules.max_word_length for word in stripped.split()):
            removed["c4_line_long_word"] += 1
        elif not stripped.endswith(TERMINAL_PUNCTUATION):
            removed["c4_line_no_terminal_punct"] += 1
        elif len(stripped.split()) < rules.min_words_per_line:
            removed["c4_line_few_words"] += 1
        elif "javascript" in lower:
            removed["c4_line_javascript"] += 1
        elif any(phrase in lower for phrase in C4_POLICY_PHRASES):
            removed["c4_line_policy"] += 1
        else:
            kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), removed


def c4_document(text: str, rules: C4Rules = C4Rules()) -> str | None:
    lower = text.lower()
    if "lorem ipsum" in lower:
        return Drop("c4_lorem_ipsum", lower.count("lorem ipsum"), ">", 0)
    if "{" in text:
        return Drop("c4_curly_bracket", text.count("{"), ">", 0)
    # C4 splits sentences with a tokenizer; a terminal punctuation mark followed by a space or
    # the end is the same rule for the prose that survives the line filter.
    sentences = len(SENTENCE_END.findall(text))
    if sentences < rules.min_num_sentences:
        return Drop("c4_too_few_sentences", sentences, "<", rules.min_num_sentences)
    return None


# ---------------------------------------------------------------------------------------------
# FineWeb (Penedo et al. 2024, §3.3)


@dataclass(frozen=True)
class FineWebRules:
    line_punct_thr: float = 0.12
    short_line_thr: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01
    new_line_ratio: float = 0.3


def fineweb(text: str, rules: FineWebRules = FineWebRules()) -> str | None:
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return Drop("fineweb_empty", 0, "=", 0)
    share = sum(line.rstrip().endswith(TERMINAL_PUNCTUATION) for line in lines) / len(lines)
    if share < rules.line_punct_thr:
        return Drop("fineweb_line_punct_ratio", share, "<", rules.line_punct_thr)
    share = sum(len(line) <= rules.short_line_length for line in lines) / len(lines)
    if share > rules.short_line_thr:
        return Drop("fineweb_short_line_ratio", share, ">", rules.short_line_thr)
    _, dup_chars = _duplicates([line.strip() for line in lines])
    share = dup_chars / max(len(text.replace("\n", "")), 1)
    if share > rules.char_duplicates_ratio:
        return Drop("fineweb_char_dup_ratio", share, ">", rules.char_duplicates_ratio)
    share = text.count("\n") / max(len(words(text)), 1)
    if share > rules.new_line_ratio:
        return Drop("fineweb_list_ratio", share, ">", rules.new_line_ratio)
    return None


# ---------------------------------------------------------------------------------------------
# Per source kind: a social post is not judged like a web page, nor a book like a page.


@dataclass(frozen=True)
class QualityConfig:
    """Which rules run for a source kind, with their thresholds."""

    c4: C4Rules | None = None
    gopher_quality: GopherQuality | None = None
    gopher_repetition: GopherRepetition | None = None
    fineweb: FineWebRules | None = None
    min_chars: int = 1
    max_chars: int | None = None
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


QUALITY_BY_KIND: dict[str, QualityConfig] = {
    "archives": QualityConfig(
        c4=C4Rules(),
        gopher_quality=GopherQuality(),
        gopher_repetition=GopherRepetition(),
        fineweb=FineWebRules(),
        notes="web pages: C4 lines, Gopher, FineWeb at published values",
    ),
    "texts": QualityConfig(
        # Curated documents (books, speeches, poems): lines without final punctuation and short
        # works are normal, so no C4 or FineWeb line rules and a lower word floor [policy].
        gopher_quality=GopherQuality(min_doc_words=20, max_doc_words=2_000_000),
        gopher_repetition=GopherRepetition(),
        notes="curated texts: Gopher repetition; Gopher quality with min 20 words [policy]",
    ),
    "images": QualityConfig(
        min_chars=1, notes="captions: a non-empty caption; no text-quality rules [policy]"
    ),
    "social": QualityConfig(
        # Bluesky posts hold at most 300 graphemes; a longer "post" is not a post [policy].
        min_chars=2,
        max_chars=3000,
        notes="posts: length only [policy]",
    ),
}


def judge(
    text: str, config: QualityConfig, language: str | None = "en"
) -> tuple[str, str | None, Counter[str]]:
    """Apply a kind's rules. Returns (text after line filters, drop reason or None, removed
    lines by reason)."""
    removed: Counter[str] = Counter()
    if config.c4 is not None:
        text, removed = c4_lines(text, config.c4)
    if len(text) < config.min_chars:
        return text, Drop("too_short", len(text), "<", config.min_chars), removed
    if config.max_chars is not None and len(text) > config.max_chars:
        return text, Drop("too_long", len(text), ">", config.max_chars), removed
    reason = (
        (config.c4 and c4_document(text, config.c4))
        or (config.gopher_repetition and gopher_repetition(text, config.gopher_repetition))
        or (config.gopher_quality and gopher_quality(text, config.gopher_quality, language))
        or (config.fineweb and fineweb(text, config.fineweb))
        or None
    )
    return text, reason, removed
