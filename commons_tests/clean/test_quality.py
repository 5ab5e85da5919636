"""Each quality rule on a document just inside and just outside its published threshold."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commons_assets.clean.quality import (
    NO_LETTER,
    NOT_A_WORD,
    PRESETS,
    QUALITY_BY_KIND,
    C4Rules,
    GopherQuality,
    GopherRepetition,
    WordGrams,
    c4_document,
    c4_lines,
    fineweb,
    gopher_quality,
    gopher_repetition,
    judge,
    sentences,
)

# 8 distinct words, 4-5 letters each, two of them Gopher stop words.
VOCAB = ["the", "river", "and", "stone", "bridge", "water", "light", "field"]


def prose(n_words: int) -> str:
    return (
        " ".join(VOCAB[i % len(VOCAB)] + str(i) for i in range(n_words)).replace("the0", "the")
        + " and the end."
    )


def distinct(n: int) -> list[str]:
    return [f"w{i:05d}" for i in range(n)]


def test_gopher_min_words_boundary() -> None:
    rules = GopherQuality()
    text_49 = " ".join(["the", "and", *distinct(47)])
    text_50 = " ".join(["the", "and", *distinct(48)])
    assert gopher_quality(text_49, rules) == "gopher_short_doc"
    assert gopher_quality(text_50, rules) is None


def test_gopher_mean_word_length_boundaries() -> None:
    short = " ".join(["the", "and"] + ["ab"] * 60)  # mean < 3
    ok = " ".join(["the", "and"] + ["abc"] * 60)
    long = " ".join(["the", "and"] + ["a" * 11] * 60)  # mean > 10
    assert gopher_quality(short) == "gopher_below_avg_word_length"
    assert gopher_quality(ok) is None
    assert gopher_quality(long) == "gopher_above_avg_word_length"


def test_gopher_symbol_ratio_boundary() -> None:
    words = ["the", "and", *distinct(98)]  # 100 words
    at_limit = " ".join(words[:90] + ["#"] * 10)  # 10 / 100 = 0.1: allowed
    over = " ".join(words[:89] + ["#"] * 11)
    assert gopher_quality(at_limit) is None
    assert gopher_quality(over) == "gopher_too_many_hashes"


def test_gopher_stop_words_only_for_english() -> None:
    text = " ".join(distinct(60))
    assert gopher_quality(text, language="en") == "gopher_enough_stop_words"
    assert gopher_quality(text, language="de") is None
    assert gopher_quality(" ".join(["the", "and", *distinct(58)]), language="en") is None


def test_gopher_non_alpha_words_boundary() -> None:
    alpha = ["the", "and", *distinct(78)]  # 80 words with letters
    assert gopher_quality(" ".join(alpha + ["1234"] * 20)) is None  # 80%: allowed
    assert gopher_quality(" ".join(alpha[:79] + ["1234"] * 21)) == "gopher_below_alpha_threshold"


def test_gopher_bullet_and_ellipsis_lines() -> None:
    items = [f"- the and item w{i:04d} alpha beta gamma" for i in range(12)]
    prose_lines = ["the closing line of this list ends here.", "and another plain line."]
    assert gopher_quality("\n".join(items[:9] + prose_lines)) is None  # 9 of 11: below 0.9
    assert gopher_quality("\n".join(items)) == "gopher_too_many_bullets"
    ellipsis = [f"the and line w{i:04d} alpha beta gamma…" for i in range(4)]
    plain = [f"the and line v{i:04d} alpha beta gamma." for i in range(7)]
    assert gopher_quality("\n".join(ellipsis[:3] + plain)) is None  # 3 of 10 = 0.3: allowed
    too_many = "\n".join(ellipsis + plain[:6])  # 4 of 10
    assert gopher_quality(too_many) == "gopher_too_many_ellipsis_lines"


def test_gopher_duplicate_lines_boundary() -> None:
    rules = GopherRepetition()
    unique = [f"line number {i} says something different w{i:04d}" for i in range(10)]
    three_dups = unique[:7] + [unique[0]] * 3  # 3 / 10 = 0.3: allowed by line fraction
    assert gopher_repetition("\n".join(three_dups), rules) in (None, "gopher_dup_line_char_frac")
    four_dups = unique[:6] + [unique[0]] * 4
    assert gopher_repetition("\n".join(four_dups), rules) == "gopher_dup_line_frac"


def test_gopher_duplicate_paragraph_chars() -> None:
    paragraph = "a paragraph that is rather long and repeated " * 3
    text = "\n\n".join(
        [paragraph, paragraph, "short other paragraph"] + [f"p{i}" for i in range(5)]
    )
    assert gopher_repetition(text) == "gopher_dup_para_char_frac"


def test_gopher_top_and_duplicated_ngrams() -> None:
    assert gopher_repetition(" ".join(["buy now"] * 40)) is not None
    assert gopher_repetition(" ".join(distinct(200))) is None


def test_c4_line_filter_and_document_rules() -> None:
    text = "\n".join(
        [
            "Navigation Home About",
            "This line is a proper sentence.",
            "Ok.",
            "Please enable javascript to view this page.",
            "Read our privacy policy before you continue.",
            "Another proper sentence ends here!",
        ]
    )
    kept, removed = c4_lines(text, C4Rules())
    assert kept == "This line is a proper sentence.\nAnother proper sentence ends here!"
    assert dict(removed) == {
        "c4_line_no_terminal_punct": 1,
        "c4_line_few_words": 1,
        "c4_line_javascript": 1,
        "c4_line_policy": 1,
    }
    four = " ".join(f"Sentence number {i} is here." for i in range(4))
    five = " ".join(f"Sentence number {i} is here." for i in range(5))
    assert c4_document(four) == "c4_too_few_sentences"
    assert c4_document(five) is None
    assert c4_document(five + " Lorem ipsum dolor sit amet.") == "c4_lorem_ipsum"
    assert c4_document(five + " var x = {a: 1};") == "c4_curly_bracket"


def test_fineweb_rules() -> None:
    good = "\n".join(
        f"This is a full line of prose number {i} with enough words." for i in range(10)
    )
    assert fineweb(good) is None
    no_punct = "\n".join(f"a line without final punctuation number {i} here" for i in range(10))
    assert fineweb(no_punct) == "fineweb_line_punct_ratio"
    short = "\n".join([f"Item {i}." for i in range(7)] + [good.split("\n")[0]] * 3)
    assert fineweb(short) == "fineweb_short_line_ratio"
    duplicated = good + "\n" + good.split("\n")[0]
    assert fineweb(duplicated) == "fineweb_char_dup_ratio"


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("social", "ok", None),  # a two-character post is a post
        ("social", "x", "too_short"),
        ("social", "y" * 3001, "too_long"),
        (
            "texts",
            "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
            "Rough winds do shake the darling buds of May,\n"
            "And summer's lease hath all too short a date;",
            None,
        ),  # a poem is not judged by web-page line rules
    ],
)
def test_rules_depend_on_the_source_kind(kind: str, text: str, reason: str | None) -> None:
    assert judge(text, QUALITY_BY_KIND[kind])[1] == reason


ARTICLE = "\n".join(
    [
        "How the river was measured",  # a heading: no terminal punctuation
        "The volunteers of the society walked to the old weir with the gauge every Sunday "
        "morning, and they wrote the level of the water into a notebook that is kept at the "
        "library.",
        "What they carried",
        "- a staff gauge",  # list items of one to three words
        "- two notebooks",
        "- a thermometer",
        "In the dry summer of that year the level fell below the mark that the miller had cut "
        "into the stone, and the records show that the water was warmer than in any year before.",
    ]
)


def test_web_page_defaults_keep_headings_and_lists() -> None:
    # Measured defaults (README, "Clean stage"): C4's terminal-punctuation and words-per-line
    # rules removed headings and list items of real articles, so pages run without them.
    config = QUALITY_BY_KIND["archives"]
    text, reason, removed = judge(ARTICLE, config)
    assert (text, reason, removed) == (ARTICLE, None, Counter())
    # C4 at its published values removes the heading and the list.
    text, _, removed = judge(ARTICLE, PRESETS["c4"])
    assert "What they carried" not in text and "- a staff gauge" not in text
    assert removed["c4_line_no_terminal_punct"] == 5
    # FineWeb's filters run only in its preset; the default does not apply them.
    assert config.fineweb is None and PRESETS["fineweb"].fineweb is not None
    # Gopher's quality thresholds are English ones: other languages are not judged by them.
    assert config.gopher_quality.languages == ("en",)
    too_short = "Ein kurzer Text über den Fluss."
    assert gopher_quality(too_short, config.gopher_quality, "de") is None
    assert gopher_quality(too_short, config.gopher_quality, "en") == "gopher_short_doc"


def test_languages_without_spaces_skip_word_counts() -> None:
    japanese = "川の水位を毎週測りました。記録は図書館にあります。夏は水位が下がりました。" * 3
    assert gopher_quality(japanese, GopherQuality(), "ja") is None
    assert gopher_quality(japanese, GopherQuality(), "en") == "gopher_short_doc"
    assert c4_lines(japanese, C4Rules(), "ja")[0] == japanese
    assert sentences(japanese) == 9


def test_stop_words_are_distinct_and_in_any_case() -> None:
    body = " ".join(distinct(60))
    assert gopher_quality(f"The {body} THE the.") == "gopher_enough_stop_words"
    assert gopher_quality(f"The {body} (and) done.") is None


def test_c4_citations_and_ellipsis_lines() -> None:
    text = "The weir was built in 1820.[1] It was raised in 1901.[citation needed]\nRead more..."
    kept, removed = c4_lines(text, C4Rules(min_words_per_line=0))
    assert kept == "The weir was built in 1820. It was raised in 1901."
    assert removed == Counter({"c4_citations_removed": 1, "c4_line_no_terminal_punct": 1})
    kept, _ = c4_lines(text, C4Rules(remove_citations=False, filter_no_terminal_punct=False))
    assert "[1]" in kept


def repeated_chars_by_definition(tokens: list[str], n: int) -> int:
    """datatrove's find_all_duplicate over word n-grams, written out."""
    grams = [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    seen: set[str] = set()
    repeated = i = 0
    while i < len(grams):
        if grams[i] in seen:
            repeated += len(grams[i]) - (n - 1)  # characters of the words, not the spaces
            i += n
        else:
            seen.add(grams[i])
            i += 1
    return repeated


def top_gram_chars_by_definition(tokens: list[str], n: int) -> int:
    grams = [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0
    gram, count = Counter(grams).most_common(1)[0]
    return len(gram) * count


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["a", "bb", "a b", "ccc", "dd", "e"]), max_size=60))
def test_word_grams_match_the_definitions(pieces: list[str]) -> None:
    tokens = " ".join(pieces).split()
    grams = WordGrams(tokens)
    for n in (1, 2, 3, 4, 5, 6, 8):
        assert grams.top_gram_chars(n) == top_gram_chars_by_definition(tokens, n)
    for n in (5, 6, 7, 8, 9, 10):  # shorter n first, as the rule asks them
        assert grams.repeated_chars(n) == repeated_chars_by_definition(tokens, n)


def lines_with(punctuated: int, plain: int, length: int = 40) -> str:
    """Lines of about `length` characters; `punctuated` of them end with a full stop."""
    rows = [f"{'p' * 3} line {i:03d} " + "w" * (length - 14) + "." for i in range(punctuated)]
    rows += [f"{'q' * 3} line {i:03d} " + "w" * (length - 13) for i in range(plain)]
    return "\n".join(rows)


def test_fineweb_line_punctuation_boundary() -> None:
    # 0.12 of lines must end in punctuation: 3 of 25 = 0.12 passes, 2 of 25 = 0.08 fails.
    assert fineweb(lines_with(3, 22)) is None
    assert fineweb(lines_with(2, 23)) == "fineweb_line_punct_ratio"


def test_fineweb_short_line_boundary() -> None:
    short = [f"Short line {i:02d}." for i in range(67)]  # <= 30 characters
    long = [f"This is a long line number {i:03d} that ends well." for i in range(33)]
    assert fineweb("\n".join(short + long)) is None  # 67 / 100 = 0.67: allowed
    assert fineweb("\n".join(short + [f"Short line x{i}." for i in range(1)] + long[:32])) == (
        "fineweb_short_line_ratio"
    )


def test_fineweb_newline_ratio_boundary() -> None:
    # At most 0.3 newlines per word: 10 lines of 8 words give 9 / 80 (kept); 10 lines of 2
    # words give 9 / 20 = 0.45 (dropped).
    four = "\n".join(f"Quite long line w{i:03d} here with more text." for i in range(10))
    assert fineweb(four) is None
    two = "\n".join(f"Wordwordwordwordwordwordword w{i:03d}wordwordword." for i in range(10))
    assert fineweb(two) == "fineweb_list_ratio"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("He went home. She stayed.", 2),
        ("Mr. Garrett swung it at Mr. Rudolph, hitting him.", 1),  # abbreviations
        ("It was J. Smith. He left.", 2),  # an initial
        ("So did I. Then we left.", 2),  # "I" is a word, not an initial
        ("A heading without a mark\nA sentence.", 2),
        ("川の水位を測りました。記録は図書館にあります。", 2),
    ],
)
def test_sentences_are_counted_like_a_splitter(text: str, count: int) -> None:
    assert sentences(text) == count


# Gopher's words by their definition: tokens with a letter or digit; tokens with a letter.
REAL_WORD = re.compile(r"(?<!\S)\S*?\w\S*")
LETTER_WORD = re.compile(r"(?<!\S)\S*?[^\W\d_]\S*")
# Letters, digits of several scripts, numerals that are not digits (superscript two, Roman
# twelve), underscores, punctuation, and whitespace that str.split and regular expressions
# must agree on (no-break, ideographic, information separators).
GOPHER_PIECES = [
    *("word", "The", "caf\u00e9", "\u0434\u043e\u043c", "x1", "42", "\u0663\u0664", "\u00b2"),
    *("\u216b", "_", "a_b", "--", "...", "\u2026", "#", "|", "(1)", "\u00bb\u00ab", "'s"),
    *(" ", "  ", "\n", "\t", "\u00a0", "\u3000", "\x1c", "\u2028"),
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(GOPHER_PIECES), max_size=80))
def test_gopher_word_counts_match_the_definitions(pieces: list[str]) -> None:
    """The counts by complement (every token but those without a letter or digit, or without
    a letter) are the counts of the words themselves, whatever the script or whitespace."""
    text = "".join(pieces)
    tokens = text.split()
    real_words = REAL_WORD.findall(text)
    not_words = NOT_A_WORD.findall(text)
    assert len(tokens) - len(not_words) == len(real_words)
    assert sum(map(len, tokens)) - sum(map(len, not_words)) == sum(map(len, real_words))
    assert len(tokens) - len(NO_LETTER.findall(text)) == len(LETTER_WORD.findall(text))


def test_stop_words_counted_in_full_when_too_few() -> None:
    """The stop-word search stops at enough; a page with too few reports how many it has."""
    few = "The " + " ".join(f"w{i:02d}xyz" for i in range(60))
    reason = gopher_quality(few, GopherQuality(min_stop_words=3))
    assert reason == "gopher_enough_stop_words"
    assert reason.detail == "measured 1 < limit 3"
    enough = "the and of " + " ".join(f"word{i}" for i in range(60))
    assert gopher_quality(enough, GopherQuality(min_stop_words=3)) is None
