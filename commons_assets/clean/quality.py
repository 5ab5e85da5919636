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

import numpy as np

# Gopher's words are whitespace tokens with a letter or digit, and its alphabetic share counts
# those with a letter. Both are counted as every token but the few without: a whole token with
# no letter or digit (NOT_A_WORD), one with no letter (NO_LETTER); the lookbehind anchors each
# try at a token's start. Half the time of finding every word, on every page's path.
NOT_A_WORD = re.compile(r"(?<!\S)[^\w\s]+(?!\S)")
NO_LETTER = re.compile(r"(?<!\S)(?:[^\w\s]|[\d_])+(?!\S)")
STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})  # Gopher A.1.1
BULLETS = ("•", "●", "○", "▪", "◦", "*", "-", "\u2013", "‣")
ELLIPSES = ("...", "…")
WORD_EDGES = ".,;:!?\"'()\\[\\]\u201c\u201d\u2018\u2019"  # around a stop word in its token
STOP_WORD = re.compile(
    rf"(?<!\S)[{WORD_EDGES}]*({'|'.join(sorted(STOP_WORDS))})[{WORD_EDGES}]*(?!\S)",
    re.IGNORECASE,
)
# C4 §2.2 ("terminal punctuation"), with closing typographic quotes and the full stops, question
# and exclamation marks of scripts that do not use the Latin ones (datatrove's FineWeb filter
# takes a still larger set; these are the ones in the languages our identifier reports).
# datatrove's C4 filter ends lines only with the ASCII quotes; a closing \u201d is the same mark
# in typographic form, so a quoted review line ending in one stays, as it would with '"' (the
# one `commons bench rules` disagreement of C4 without its sentence floor).
QUOTES = ('"', "\u201d", "\u2019", "'")
SENTENCE_MARKS = (
    *(".", "!", "?"),
    *("\u3002", "\uff01", "\uff1f", "\uff0e", "\uff61", "\u0964", "\u0965", "\u061f", "\u06d4"),
    *("\u0589", "\u1362", "\u1367"),
)
TERMINAL_PUNCTUATION = (*SENTENCE_MARKS, *QUOTES)
C4_POLICY_PHRASES = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
# C4's own code (tensorflow_datasets c4_utils, `_CITATION_REGEX`): Wikipedia-style citations.
CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
# A sentence ends at terminal punctuation followed by a space or the end of the line; the
# full-width marks of Chinese and Japanese end one wherever they stand.
SENTENCE_END = re.compile(r"[.!?]+['\"\u201d\u2019)]*(?=\s|$)|[\u3002\uff01\uff1f]+")
# A full stop after these does not end a sentence ("Mr. Garrett", "J. Smith"), as sentence
# splitters know (spaCy's and NLTK's Punkt, which C4 used, learn such lists); without them a
# page naming people reached C4's five-sentence floor on three sentences (`commons bench rules`).
ABBREVIATION = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|prof|st|jr|sr|rev|gen|col|capt|lt|sgt|hon|vs|vol|fig|approx|"
    r"inc|ltd|corp|dept|univ|e\.g|i\.e)|(?<!\w)(?-i:[A-HJ-Z]))\.$",  # an initial, not "I"
    re.IGNORECASE,
)
# Languages written without spaces between words: a whitespace "word" there is a clause, so the
# rules that count words (Gopher's word counts and lengths, C4's words per line, FineWeb's
# newlines per word) measure nothing. FineWeb-2 (Penedo et al. 2025, §3) gives these languages
# their own word tokenizers; without one, Commons does not apply the word-count rules to them
# and keeps the line and repetition rules.
UNSPACED_LANGUAGES = frozenset({"ja", "zh", "th", "lo", "km", "my", "bo", "dz", "wuu", "yue"})


def words(text: str) -> list[str]:
    """Whitespace-separated tokens (`str.split`: the same tokens as `\\S+`, at C speed)."""
    return text.split()


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
    # The languages these rules apply to (empty: every language; the word rules skip languages
    # written without spaces). The thresholds were set on English (Gopher's MassiveWeb; FineWeb
    # ran them on English only); FineWeb-2 (Penedo et al. 2025) re-derived them per language.
    languages: tuple[str, ...] = ()


def gopher_quality(
    text: str, rules: GopherQuality = GopherQuality(), language: str | None = "en"
) -> str | None:
    """Gopher's quality rules. The stop-word rule uses Gopher's English stop words, so it only
    applies to English text (Gopher and FineWeb filtered English only); the rules that count
    words do not apply to languages written without spaces (`UNSPACED_LANGUAGES`); none
    applies outside `rules.languages` when it names any.

    Where datatrove's GopherQualityFilter reads the paper differently (`commons bench rules`
    lists each disagreement on real texts):
    - words are whitespace-separated tokens with a letter or digit, as in the paper's "words"
      (datatrove: spaCy tokens; it counts punctuation tokens as words without a letter in the
      alphabetic share, so a normal sentence loses ~10 % of its share there);
    - "at least two of the following English words" counts distinct stop words, in any case
      (datatrove matches lower-case tokens only: "The" is not "the" there);
    - bullets are any bullet character (•, ●, ▪, *, -, …), not only "•" and "-", and line
      shares are over non-empty lines (an empty line is not a line of text).
    """
    if rules.languages and language not in rules.languages:
        return None
    if language not in UNSPACED_LANGUAGES and (
        reason := _gopher_words(text, words(text), rules, language)
    ):
        return reason
    lines = [line for line in text.splitlines() if line.strip()]
    bullets = sum(line.lstrip().startswith(BULLETS) for line in lines) / max(len(lines), 1)
    if bullets > rules.max_bullet_lines_ratio:
        return Drop("gopher_too_many_bullets", bullets, ">", rules.max_bullet_lines_ratio)
    ellipsis = sum(line.rstrip().endswith(ELLIPSES) for line in lines) / max(len(lines), 1)
    if ellipsis > rules.max_ellipsis_lines_ratio:
        return Drop("gopher_too_many_ellipsis_lines", ellipsis, ">", rules.max_ellipsis_lines_ratio)
    return None


def _gopher_words(
    text: str, tokens: list[str], rules: GopherQuality, language: str | None
) -> str | None:
    # Word counts and lengths are over tokens with something besides punctuation, as in
    # datatrove: a table's "|" separators or a lone dash are not words. (Regular expressions
    # over the whole text rather than a test per token: this is on every page's path.)
    not_words = NOT_A_WORD.findall(text)
    n = len(tokens)
    if (count := n - len(not_words)) < rules.min_doc_words:
        return Drop("gopher_short_doc", count, "<", rules.min_doc_words)
    if count > rules.max_doc_words:
        return Drop("gopher_long_doc", count, ">", rules.max_doc_words)
    mean_length = (sum(map(len, tokens)) - sum(map(len, not_words))) / count
    if mean_length < rules.min_avg_word_length:
        return Drop("gopher_below_avg_word_length", mean_length, "<", rules.min_avg_word_length)
    if mean_length > rules.max_avg_word_length:
        return Drop("gopher_above_avg_word_length", mean_length, ">", rules.max_avg_word_length)
    # "a symbol-to-word ratio greater than 0.1 for either the hash symbol or the ellipsis"
    hashes = text.count("#") / n
    if hashes > rules.max_symbol_word_ratio:
        return Drop("gopher_too_many_hashes", hashes, ">", rules.max_symbol_word_ratio)
    ellipses = sum(text.count(e) for e in ELLIPSES) / n
    if ellipses > rules.max_symbol_word_ratio:
        return Drop("gopher_too_many_ellipses", ellipses, ">", rules.max_symbol_word_ratio)
    alpha = (n - len(NO_LETTER.findall(text))) / count
    if alpha < rules.max_non_alpha_words_ratio:
        return Drop("gopher_below_alpha_threshold", alpha, "<", rules.max_non_alpha_words_ratio)
    if language == "en":
        # Enough distinct stop words ends the search: an English page has them in its first
        # sentence; only a page that fails reads to its end (and reports its full count).
        present: set[str] = set()
        for match in STOP_WORD.finditer(text):
            present.add(match.group(1).lower())
            if len(present) >= rules.min_stop_words:
                break
        if len(present) < rules.min_stop_words:
            return Drop("gopher_enough_stop_words", len(present), "<", rules.min_stop_words)
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


# The n-gram shares are measured as datatrove measures them, not as the paper's words might
# also be read ("characters contained within all duplicate n-grams", which RedPajama-V2 counts
# with every occurrence, the first included): the thresholds are only known to work with the
# measurement they were validated with, and FineWeb validated these with datatrove's (Penedo et
# al. 2024, §3.3 and Fig. 2). Counting first occurrences too about doubles the share, dropping
# real articles (0.16 to 0.19 measured) and every public-domain book of the texts corpus.


class WordGrams:
    """The word n-grams of one text as exact integer ids (numpy), so that the repetition shares
    cost a few array operations per n instead of a Python tuple per position: the rules ran at
    a quarter of the clean stage's time before (`commons bench extraction`, throughput)."""

    def __init__(self, tokens: list[str]) -> None:
        # Ids in order of first occurrence: a token's id is the number of distinct tokens
        # before its first occurrence.
        vocabulary: dict[str, int] = {}
        self.ids = np.fromiter(
            (vocabulary.setdefault(token, len(vocabulary)) for token in tokens),
            np.int64,
            len(tokens),
        )
        lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
        self.chars_before = np.concatenate(([0], np.cumsum(lengths)))
        self._grams: dict[int, np.ndarray] = {}
        self._counts: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def grams(self, n: int) -> np.ndarray:
        """Id of the n-gram starting at each position: equal ids, equal n-grams (no hashing,
        so no collisions a hostile page could craft)."""
        if n not in self._grams:
            self._grams[n] = self._count(n)[0]
        return self._grams[n]

    def _count(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(id per position, first position of each id, occurrences of each id)."""
        if n not in self._counts:
            if n == 1:
                # The ids are 0..V-1 in order of first occurrence: counted without sorting.
                # Id k first occurs where the running maximum of the ids reaches k.
                first = np.flatnonzero(np.diff(np.maximum.accumulate(self.ids), prepend=-1) > 0)
                self._counts[1] = (self.ids, first, np.bincount(self.ids))
                self._grams[1] = self.ids
                return self._counts[1]
            shorter = self.grams(n - 1)[:-1] if len(self.ids) >= n else self.ids[:0]
            pairs = shorter * (len(self.ids) + 1) + self.ids[n - 1 :]
            _, first, inverse, counts = np.unique(
                pairs, return_index=True, return_inverse=True, return_counts=True
            )
            self._counts[n] = (inverse.reshape(-1), first, counts)
            self._grams[n] = self._counts[n][0]
        return self._counts[n]

    def chars(self, start: int, n: int) -> int:
        return int(self.chars_before[start + n] - self.chars_before[start])

    def top_gram_chars(self, n: int) -> int:
        """Characters of the most frequent n-gram (words joined by spaces) times its count; of
        equally frequent ones, the first to occur (as `Counter.most_common`)."""
        grams, first, counts = self._count(n)
        if not len(grams):
            return 0
        most = counts.max()
        start = int(first[counts == most].min())
        return (self.chars(start, n) + n - 1) * int(most)

    def repeated_chars(self, n: int) -> int:
        """Characters in n-grams that repeat an earlier one, each repeat counted once and the
        next n words skipped (datatrove's `find_all_duplicate`): positions in between that
        repeat nothing are added to the seen set in bulk."""
        # No m-gram that occurs twice, no longer one either: most pages stop at n = 5.
        if any(self._counts[m][2].max(initial=0) < 2 for m in self._counts if m < n):
            return 0
        grams, first, counts = self._count(n)
        if not len(grams) or counts.max() < 2:
            return 0
        candidates = np.flatnonzero(first[grams] < np.arange(len(grams)))
        values = grams.tolist()
        seen: set[int] = set()
        repeated = index = 0
        for candidate in candidates.tolist():
            if candidate < index:
                continue
            seen.update(values[index:candidate])
            if values[candidate] in seen:
                repeated += self.chars(candidate, n)
                index = candidate + n
            else:
                seen.add(values[candidate])
                index = candidate + 1
        return repeated


def gopher_repetition(
    text: str, rules: GopherRepetition = GopherRepetition(), language: str | None = "en"
) -> str | None:
    if not text.strip():
        return None
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
    if language in UNSPACED_LANGUAGES:  # whitespace n-grams of clauses measure nothing
        return None
    grams = WordGrams(words(text))
    for n, limit in rules.top_n_grams:
        if (share := grams.top_gram_chars(n) / len(text)) > limit:
            return Drop(f"gopher_top_{n}_gram", share, ">", limit)
    for n, limit in rules.dup_n_grams:
        if (share := grams.repeated_chars(n) / len(text)) > limit:
            return Drop(f"gopher_duplicated_{n}_n_grams", share, ">", limit)
    return None


# ---------------------------------------------------------------------------------------------
# C4 (Raffel et al. 2020, §2.2): a line filter, then document rules on what remains


@dataclass(frozen=True)
class C4Rules:
    min_words_per_line: int = 3
    max_word_length: int = 1000
    min_num_sentences: int = 5
    # C4 keeps only lines ending in terminal punctuation; FineWeb's recipe turns this off
    # (datatrove examples/fineweb.py) because it removes headings, list items and captions.
    filter_no_terminal_punct: bool = True
    remove_citations: bool = True


def c4_lines(
    text: str, rules: C4Rules = C4Rules(), language: str | None = "en"
) -> tuple[str, Counter[str]]:
    """Keep only lines that C4 keeps; returns (text, removed lines by reason). The checks run
    in the order of C4's own code (tensorflow_datasets c4_utils), so that a line with "lorem
    ipsum" or a curly bracket stays for `c4_document` to drop the page, as C4 does, unless an
    earlier line rule removed it."""
    kept: list[str] = []
    removed: Counter[str] = Counter()
    spaced = language not in UNSPACED_LANGUAGES
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            kept.append(line)
            continue
        if len(stripped) > rules.max_word_length and any(
            len(word) > rules.max_word_length for word in stripped.split()
        ):
            removed["c4_line_long_word"] += 1
            continue
        if rules.remove_citations and CITATION.search(stripped):
            line = CITATION.sub("", line)
            stripped = line.strip()
            removed["c4_citations_removed"] += 1
        lower = stripped.lower()
        if rules.filter_no_terminal_punct and (
            not stripped.endswith(TERMINAL_PUNCTUATION) or stripped.endswith(ELLIPSES)
        ):
            removed["c4_line_no_terminal_punct"] += 1
        elif spaced and len(stripped.split()) < rules.min_words_per_line:
            removed["c4_line_few_words"] += 1
        elif "lorem ipsum" in lower:
            kept.append(line)
        elif "javascript" in lower:
            removed["c4_line_javascript"] += 1
        elif "{" in stripped:
            kept.append(line)
        elif any(phrase in lower for phrase in C4_POLICY_PHRASES):
            removed["c4_line_policy"] += 1
        else:
            kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), removed


def sentences(text: str) -> int:
    """Sentences as a sentence splitter counts them: each terminal mark that ends one (not the
    full stop of an abbreviation), and a line's last words without a mark (a heading is one
    sentence)."""
    count = 0
    for line in text.splitlines():
        if not (stripped := line.strip()):
            continue
        ends = [
            end
            for end in SENTENCE_END.finditer(stripped)
            # the word before the mark, looked at in a window: a line is read once
            if not ABBREVIATION.search(stripped, max(end.start() - 8, 0), end.start() + 1)
        ]
        count += len(ends) + (not ends or ends[-1].end() < len(stripped))
    return count


def c4_document(text: str, rules: C4Rules = C4Rules()) -> str | None:
    lower = text.lower()
    if "lorem ipsum" in lower:
        return Drop("c4_lorem_ipsum", lower.count("lorem ipsum"), ">", 0)
    if "{" in text:
        return Drop("c4_curly_bracket", text.count("{"), ">", 0)
    # C4 counts sentences with a sentence splitter (datatrove: spaCy's, on the kept lines).
    if rules.min_num_sentences > 0 and (found := sentences(text)) < rules.min_num_sentences:
        return Drop("c4_too_few_sentences", found, "<", rules.min_num_sentences)
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


def fineweb(
    text: str, rules: FineWebRules = FineWebRules(), language: str | None = "en"
) -> str | None:
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return Drop("fineweb_empty", 0, "=", 0)
    # FineWeb counts lines that end in a sentence mark, not a closing quote (datatrove's
    # TERMINAL_PUNCTUATION), and its 0.12 was validated with that count (Penedo et al. 2024,
    # §3.3): counting quotes kept hard-wrapped books with dialogue that FineWeb drops.
    share = sum(line.endswith(SENTENCE_MARKS) for line in lines) / len(lines)
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
    if language not in UNSPACED_LANGUAGES and share > rules.new_line_ratio:
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
    # Distributors' wrappers stripped before anything else (clean/wrappers.py), by name.
    wrappers: tuple[str, ...] = ()
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


# Web pages. Chosen with `commons bench extraction` on the tuning halves of the two extraction
# sets (README, "Clean stage"): each departure from FineWeb's recipe below is a measured loss
# of real article text, and each rule kept cost nothing measurable or named a real defect.
WEB_PAGES = QualityConfig(
    # C4's line rules without "terminal punctuation" (FineWeb's recipe: it removes headings,
    # list items and captions) and without "at least 3 words" (it removes the same, and lines of
    # languages written without spaces); the javascript, policy and long-word lines still go.
    # The five-sentence floor is off: Gopher's 50 words is the length floor, and the sentence
    # floor dropped real short posts on top of it.
    c4=C4Rules(filter_no_terminal_punct=False, min_words_per_line=0, min_num_sentences=0),
    # Gopher's quality rules on English, the language their thresholds were set on; the
    # repetition rules (language-independent) on every language.
    gopher_quality=GopherQuality(languages=("en",)),
    gopher_repetition=GopherRepetition(),
    # FineWeb's own filters are off: at published values they dropped a further 1.6 % of real
    # articles (a repeated embedded-tweet line is 4 % "duplicated characters" against a 1 %
    # limit) for no measured gain; `[quality.archives] preset = "fineweb"` turns them on.
    notes="web pages: C4 line rules (no punctuation or word-count lines), Gopher repetition, "
    "Gopher quality on English [measured defaults]",
)
# FineWeb's published recipe (datatrove examples/fineweb.py): C4 without the terminal
# punctuation rule, Gopher repetition and quality, FineWeb's filters, at published values.
FINEWEB = QualityConfig(
    c4=C4Rules(filter_no_terminal_punct=False),
    gopher_quality=GopherQuality(),
    gopher_repetition=GopherRepetition(),
    fineweb=FineWebRules(),
    notes="FineWeb's recipe: C4 (no terminal punctuation rule), Gopher, FineWeb at published "
    "values",
)
# C4's published rules (Raffel et al. 2020), for comparison and for stewards who want them.
C4 = QualityConfig(c4=C4Rules(), notes="C4 at published values")
CURATED_TEXTS = QualityConfig(
    # Curated documents (books, speeches, poems): lines without final punctuation and short
    # works are normal, so no C4 or FineWeb line rules and a lower word floor [policy]; the
    # Gutenberg books of the texts corpus all pass (`commons bench rules`).
    gopher_quality=GopherQuality(min_doc_words=20, max_doc_words=2_000_000),
    gopher_repetition=GopherRepetition(),
    wrappers=("gutenberg",),
    notes="curated texts: distributors' wrappers stripped; Gopher repetition; Gopher quality "
    "with min 20 words [policy]",
)
# Named rule sets a settings file can start from (`[quality.<kind>] preset = "fineweb"`).
PRESETS: dict[str, QualityConfig] = {
    "web": WEB_PAGES,
    "fineweb": FINEWEB,
    "c4": C4,
    "curated-texts": CURATED_TEXTS,
}

QUALITY_BY_KIND: dict[str, QualityConfig] = {
    "archives": WEB_PAGES,
    "texts": CURATED_TEXTS,
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
        text, removed = c4_lines(text, config.c4, language)
    if len(text) < config.min_chars:
        return text, Drop("too_short", len(text), "<", config.min_chars), removed
    if config.max_chars is not None and len(text) > config.max_chars:
        return text, Drop("too_long", len(text), ">", config.max_chars), removed
    repetition, quality = config.gopher_repetition, config.gopher_quality
    reason = (
        (config.c4 and c4_document(text, config.c4))
        or (repetition and gopher_repetition(text, repetition, language))
        or (quality and gopher_quality(text, quality, language))
        or (config.fineweb and fineweb(text, config.fineweb, language))
        or None
    )
    return text, reason, removed
