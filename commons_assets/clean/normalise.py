"""Text normalisation: mojibake repair, Unicode NFC, control characters, whitespace."""

from __future__ import annotations

import re
import unicodedata

import ftfy

# C0/C1 controls except tab and newline; zero-width and bidi formatting characters that carry
# no text (Unicode category Cf would also remove soft hyphens in some scripts, so list them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060\ufeff]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """Repair mojibake (ftfy), compose to NFC, drop control characters, collapse horizontal
    whitespace, trim lines and keep at most one empty line between paragraphs."""
    # Curly quotes are text, not mojibake: keep them (ftfy would straighten them by default).
    text = ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
