"""Distributors' wrappers around curated texts: the header, footer and licence boilerplate that a
distributor puts around a work (Project Gutenberg's "*** START OF THE PROJECT GUTENBERG EBOOK"
banner and its licence), which are not the work and must not be published as part of it.

Each known wrapper is a pair of marker patterns: the text between the end of the start marker's
line and the start of the end marker's line is the work. What was kept is recorded as character
offsets into the source text (`provenance.text_span`), so the stripped parts can be found again.

Why not a library: `gutenberg-cleaner` (and c-w/gutenberg's `strip_headers`, which it copies)
returns the text without offsets, treats loose phrases such as "Produced by" or "by Project
Gutenberg" anywhere in the first 600 lines as markers, and installs a top-level
`_cleaning_options` package with NLTK. The markers here are Project Gutenberg's own: the
banner lines its header standard prescribes (gutenberg.org, "The Project Gutenberg License":
"*** START OF THE PROJECT GUTENBERG EBOOK <title> ***" and its END counterpart), the pre-2003
"*END*THE SMALL PRINT!" line, and the "End of (the) Project Gutenberg('s) …" line of the older
editions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Wrapper:
    name: str
    start: re.Pattern[str]  # the work begins after the line where this ends
    end: re.Pattern[str]  # the work ends where the line with this begins
    # A credits paragraph right after the start marker ("Produced by …"), part of the wrapper.
    credits: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Stripped:
    wrapper: str
    start: int  # characters [start, end) of the source text are the work
    end: int


GUTENBERG = Wrapper(
    name="gutenberg",
    start=re.compile(
        r"^[ \t]*\*{3}[ \t]*START OF (?:THE|THIS) PROJECT GUTENBERG E(?:BOOK|TEXT)[^*]*\*{3}"
        r"|^\*END\*?[ \t]*THE SMALL PRINT!.*?\*END\*",
        re.IGNORECASE | re.MULTILINE,
    ),
    end=re.compile(
        r"^[ \t]*\*{3}[ \t]*END OF (?:THE|THIS) PROJECT GUTENBERG E(?:BOOK|TEXT)"
        r"|^[ \t]*End of (?:the )?Project Gutenberg(?:'s|\u2019s)?\b",
        re.IGNORECASE | re.MULTILINE,
    ),
    credits=re.compile(
        r"\s*(?:Produced by|E-text prepared by|Transcribed from|Transcribed by"
        r"|This (?:e-?text|e-?book) was (?:prepared|produced))"
        r"[^\r\n]*(?:\r?\n[^\r\n]*\S[^\r\n]*)*(?:\r?\n[ \t]*)+(?=\r?\n|\S)",
        re.IGNORECASE,
    ),
)
WRAPPERS: dict[str, Wrapper] = {GUTENBERG.name: GUTENBERG}


def find_wrapper(text: str, wrappers: tuple[str, ...] = tuple(WRAPPERS)) -> Stripped | None:
    """The first known wrapper around `text` and the span of the work inside it, or None. A
    start marker alone (a file cut short) or an end marker alone (a header already removed) is
    still a wrapper: what is found is stripped."""
    for name in wrappers:
        wrapper = WRAPPERS[name]
        start_match = wrapper.start.search(text)
        start = 0
        if start_match:
            line_end = text.find("\n", start_match.end())
            start = len(text) if line_end < 0 else line_end + 1
            if wrapper.credits and (credits := wrapper.credits.match(text, start)):
                start = credits.end()
        end_match = wrapper.end.search(text, start)
        end = end_match.start() if end_match else len(text)
        if start_match or end_match:
            # The span starts and ends on the work's own characters, not the blank lines
            # between it and the markers.
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            return Stripped(name, start, end)
    return None


def strip_wrapper(text: str) -> tuple[str, Stripped | None]:
    """(the work, what was stripped) — the text unchanged and None when no wrapper is known."""
    found = find_wrapper(text)
    if found is None:
        return text, None
    return text[found.start : found.end], found
