"""IETF AIPREF usage preferences, pinned to draft-ietf-aipref-vocab-07 / attach-05, and the
neighbouring vocabularies met in the wild (Cloudflare Content-Signal, CC signals).

vocab-07 §2.2: a Content-Usage value is an RFC 9651 Dictionary (parsed with `http-sf`); Token
`y` allows and Token `n` disallows; anything else (a bare key, a String, other tokens) is
unknown; parameters are ignored; unknown labels are ignored; a parse failure (upper-case keys
included) makes everything unknown. Several statements combine per category: any disallow →
disallowed, else any allow → allowed, else unknown ("the most restrictive preference applies").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import http_sf

VOCABULARY = "aipref-vocab-07"
TRAINING = "train-ai"
ALLOWED, DISALLOWED, UNKNOWN = "allowed", "disallowed", "unknown"
# Labels of earlier drafts that meant (a superset of) generative training. Read as a training
# opt-out only in conservative legacy mode [policy: CONSENT_AND_LICENCES.md (a) gate 2].
LEGACY_TRAINING_LABELS = ("train-genai", "genai", "ai", "tdm", "bots", "all")


@dataclass(frozen=True)
class UsagePreference:
    """What one Content-Usage statement says about AI training."""

    train_ai: str  # allowed / disallowed / unknown under vocab-07
    legacy_disallow: bool = False  # an old label said `n` (legacy mode reads it as opt-out)
    credit_exception: bool = False  # CC signals `exceptions=cc-cr…` on that old label
    parse_error: str | None = None


def parse_content_usage(value: str) -> UsagePreference:
    """One Content-Usage header value or robots.txt Content-Usage value."""
    try:
        parsed = http_sf.parse(value.encode("latin-1", "replace"), tltype="dictionary")
    except (http_sf.StructuredFieldError, ValueError) as error:
        return UsagePreference(UNKNOWN, parse_error=str(error))
    # http_sf's return type covers every top-level type; a dictionary maps each key to its
    # (member value, parameters) pair.
    dictionary: dict[str, tuple[Any, dict[str, Any]]] = parsed  # type: ignore[assignment]
    verdict = UNKNOWN
    if TRAINING in dictionary:
        member, _parameters = dictionary[TRAINING]
        if isinstance(member, http_sf.Token):
            verdict = {"y": ALLOWED, "n": DISALLOWED}.get(str(member), UNKNOWN)
    legacy = False
    credit = False
    for label in LEGACY_TRAINING_LABELS:
        if label in dictionary:
            member, parameters = dictionary[label]
            if isinstance(member, http_sf.Token) and str(member) == "n":
                legacy = True
                exception = parameters.get("exceptions")
                credit = credit or (exception is not None and str(exception).startswith("cc-cr"))
    return UsagePreference(verdict, legacy, credit)


def combine(verdicts: list[str]) -> str:
    """vocab-07 §Combining Preferences: the most restrictive preference applies."""
    if DISALLOWED in verdicts:
        return DISALLOWED
    if ALLOWED in verdicts:
        return ALLOWED
    return UNKNOWN


def parse_content_signal(value: str) -> str:
    """Cloudflare `Content-Signal: search=yes, ai-train=no` (values yes/no, not y/n): the
    `ai-train` verdict (second-hand syntax, CONSENT_AND_LICENCES.md §2.4)."""
    for part in value.split(","):
        key, _, setting = part.partition("=")
        if key.strip().lower() == "ai-train":
            return {"yes": ALLOWED, "no": DISALLOWED}.get(setting.strip().lower(), UNKNOWN)
    return UNKNOWN
