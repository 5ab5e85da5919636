"""Text normalisation: mojibake repair, Unicode NFC, control characters, whitespace."""

from __future__ import annotations

import re
import unicodedata

import ftfy
import ftfy.badness

# C0/C1 controls except tab and newline; zero-width and bidi formatting characters that carry
# no text (Unicode category Cf would also remove soft hyphens in some scripts, so list them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060\ufeff]")
_SPACES = re.compile(r"[^\S\n]+")
_LINE_EDGES = re.compile(r" ?\n ?")  # after _SPACES, a line ends in at most one space
_BLANK_LINES = re.compile(r"\n{3,}")
# What ftfy could change in a text without asking its mojibake detector: Latin-1 and C1
# characters (UTF-8 read as Windows-1252 or Latin-1 always shows its lead byte's Latin-1 reading,
# Â to ô), HTML entities, terminal escapes, ligatures, full-width forms, lone surrogates.
_FTFY_CANDIDATE = re.compile(
    r"[\x80-\xff\x1b\u2028\u2029\ufb00-\ufb4f\uff00-\uffef\ud800-\udfff]|&(?:#\d+|#x[0-9a-f]+|[a-z]\w*);",
    re.IGNORECASE,
)
# Everything else ftfy repairs is mojibake of other code pages (UTF-8 read as Windows-1251 shows
# Cyrillic letters), which ftfy itself only repairs when `ftfy.badness.is_bad` says so; a text of
# ASCII and English typography cannot be bad, so only other texts pay for the detector. Skipping
# ftfy where neither applies saves a third of the clean steps' time on English pages (`commons
# bench extraction`, throughput) and changes no output (commons_tests, normalise property test).
_NOT_ENGLISH_TYPOGRAPHY = re.compile(
    r"[^\x00-\x7f\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022]"
)


def _ftfy_could_change(text: str) -> bool:
    if _FTFY_CANDIDATE.search(text):
        return True
    return bool(_NOT_ENGLISH_TYPOGRAPHY.search(text)) and ftfy.badness.is_bad(text)


def normalise_text(text: str) -> str:
    """Repair mojibake (ftfy), compose to NFC, drop control characters, collapse horizontal
    whitespace, trim lines and keep at most one empty line between paragraphs."""
    # Curly quotes are text, not mojibake: keep them (ftfy would straighten them by default).
    if _ftfy_could_change(text):
        text = ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    # Whitespace runs to one space, then lines trimmed: whole-text passes, not one per line.
    text = _LINE_EDGES.sub("\n", _SPACES.sub(" ", text))
    return _BLANK_LINES.sub("\n\n", text).strip()
