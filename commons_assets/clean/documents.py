"""The clean stage's data logic: each record goes through extraction (pages), normalisation,
language identification, quality rules and PII redaction, and comes out kept or dropped with a
reason (like datatrove's filters return `(False, "gopher_short_doc")`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from typing import Any

import imagehash
from PIL import Image
from upath import UPath

from commons_assets import __version__
from commons_assets.clean.extraction import TRAFILATURA_VERSION, extract_page
from commons_assets.clean.language import MODEL as LANGUAGE_MODEL
from commons_assets.clean.language import identify_language
from commons_assets.clean.normalise import normalise_text
from commons_assets.clean.pii import redact_pii
from commons_assets.clean.quality import QualityConfig, judge
from commons_assets.clean.records import PII_KINDS, CleanRecord
from commons_assets.clean.settings import CleanSettings
from commons_assets.clean.wrappers import find_wrapper
from commons_assets.records import Record, Signal, sha256_hex

EXCERPT_CHARS = 300
# Read once: importlib.metadata parses the package's METADATA file on every call.
FTFY_VERSION = version("ftfy")
IMAGEHASH_VERSION = version("imagehash")
# Below this fastText probability the declared language (if any) is kept instead.
MIN_LANGUAGE_SCORE = 0.5


@dataclass
class CleanOutcome:
    """What the clean stage made of one partition."""

    kept: list[CleanRecord] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    not_carried: Counter[str] = field(default_factory=Counter)
    not_extracted: Counter[str] = field(default_factory=Counter)  # by deciding gate
    lines_removed: Counter[str] = field(default_factory=Counter)
    pii: Counter[str] = field(default_factory=Counter)
    wrappers_stripped: Counter[str] = field(default_factory=Counter)

    def drop(
        self,
        row: Record,
        stage: str,
        reason: str,
        text: str | None,
        detail: str = "",
        language: str | None = None,
    ) -> None:
        self.dropped.append(
            {
                "id": row["id"],
                "source_kind": row["source_kind"],
                "source_partition": row["source_partition"],
                "source_id": row["source_id"],
                "source_uri": row["source_uri"],
                "stage": stage,
                "reason": reason,
                "detail": detail,
                "language": language,
                "excerpt": (text or "")[:EXCERPT_CHARS] or None,
            }
        )

    def reasons(self) -> Counter[str]:
        return Counter(row["reason"] for row in self.dropped)


@dataclass
class CleanCounts:
    """A partition's clean outcome counted over its batches (the rows themselves are written
    batch by batch)."""

    kept: int = 0
    dropped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    not_carried: Counter[str] = field(default_factory=Counter)
    not_extracted: Counter[str] = field(default_factory=Counter)
    lines_removed: Counter[str] = field(default_factory=Counter)
    pii: Counter[str] = field(default_factory=Counter)
    wrappers_stripped: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: CleanOutcome) -> None:
        self.kept += len(outcome.kept)
        self.dropped += len(outcome.dropped)
        self.reasons.update(outcome.reasons())
        self.not_carried.update(outcome.not_carried)
        self.not_extracted.update(outcome.not_extracted)
        self.lines_removed.update(outcome.lines_removed)
        self.pii.update(outcome.pii)
        self.wrappers_stripped.update(outcome.wrappers_stripped)


def _steps(row: Record, *added: tuple[str, str]) -> dict[str, Any]:
    provenance = dict(row["provenance"] or {})
    provenance["steps"] = [
        *(provenance.get("steps") or []),
        *({"name": name, "version": v} for name, v in added),
    ]
    return provenance


def _language(text: str, declared: str | None) -> tuple[str | None, float]:
    guess = identify_language(text)
    if guess.score < MIN_LANGUAGE_SCORE and declared:
        return declared, guess.score
    return guess.language or declared, guess.score


def _pii_counts(found: Counter[str]) -> dict[str, int]:
    return {kind: found[kind] for kind in PII_KINDS}


def clean_text_record(
    row: Record,
    text: str | None,
    config: QualityConfig,
    outcome: CleanOutcome,
    pii_mode: str = "standard",
    extra: CleanRecord | None = None,
    first_step: tuple[str, str] | None = None,
) -> None:
    """Normalise, identify, filter and redact one record's text; keep or drop it."""
    if not text or not text.strip():
        outcome.drop(row, "extract", "no_main_text", text)
        return
    text = normalise_text(text)
    language, score = _language(text, row.get("language"))
    text, reason, removed = judge(text, config, language)
    outcome.lines_removed.update(removed)
    if reason is not None:
        detail = getattr(reason, "detail", "")
        outcome.drop(row, "quality", str(reason), text, detail=detail, language=language)
        return
    text, pii = redact_pii(text, pii_mode)
    outcome.pii.update(pii)
    steps = [
        ("normalise", f"ftfy {FTFY_VERSION}; NFC"),
        ("language", LANGUAGE_MODEL),
        ("quality", config.notes),
        ("pii", f"commons {__version__}; {pii_mode}"),
    ]
    if first_step:  # extraction of a page, or the removal of a distributor's wrapper
        steps.insert(0, first_step)
    kept: CleanRecord = {
        **row,
        "text": text,
        "html": None,
        "language": language,
        "language_score": score,
        "sha256": sha256_hex(text),
        "pii": _pii_counts(pii),
        "lines_removed": sum(removed.values()),
        "licence_evidence": [],
        "provenance": _steps(row, *steps),
    }
    outcome.kept.append({**kept, **(extra or {})})


def _signal(found: dict[str, str]) -> Signal:
    """Evidence found in a page, not judged yet (the rights audit gives the verdict)."""
    return {
        "channel": found["channel"],
        "raw": found.get("raw"),
        "verdict": None,
        "location": found.get("location"),
    }


# A page that the signals needing no body already excluded (the rights audit's own decision,
# taken before extraction): `decided_before(row)` gives (gate, reason) or None.
DecidedBefore = Callable[[Record], tuple[str, str] | None]
NOT_EXTRACTED = "not extracted: "


def extracted(row: Mapping[str, Any]) -> bool:
    """Whether the clean stage extracted the page's text (False: excluded before extraction)."""
    steps = (row.get("provenance") or {}).get("steps") or []
    return not any(
        step["name"] == "extract" and (step["version"] or "").startswith(NOT_EXTRACTED)
        for step in steps
    )


def clean_pages(
    rows: list[Record], settings: CleanSettings, decided_before: DecidedBefore | None = None
) -> CleanOutcome:
    """Archive records to cleaned page text. Site files (robots.txt, ai.txt, tdmrep.json) are
    not training text: they stay in `archive_pages`, where the rights audit reads them. A page
    `decided_before` excludes is not extracted: only its evidence is read, and it goes on to
    the audit without text, where it is excluded with its full evidence."""
    outcome = CleanOutcome()
    config = settings.quality["archives"]
    for row in rows:
        if row["record_role"] != "page":
            outcome.not_carried[f"site file ({row['record_role']}), read by the rights audit"] += 1
            continue
        excluded = decided_before(row) if decided_before is not None else None
        page = extract_page(row["html"] or "", row["source_uri"], main_text=excluded is None)
        signals = [_signal(e) for e in page.consent_evidence]
        licences = [_signal(e) for e in page.licence_evidence]
        # The page's own language declaration is the fallback for an unsure identification.
        row = {**row, "language": row["language"] or page.language_hint}
        extra: CleanRecord = {
            "title": page.title,
            # Publication date from the markup; else the capture date (WARC-Date).
            "date": page.date or row["date"],
            "attribution": page.author,
            "licence_raw": licences[0]["raw"] if licences else None,
            "licence_evidence": licences,
            "consent": [*(row["consent"] or []), *signals],
        }
        if excluded is not None:
            gate, reason = excluded
            outcome.not_extracted[gate] += 1
            outcome.kept.append(_not_extracted(row, extra, f"{gate}: {reason}"))
            continue
        clean_text_record(
            row,
            page.text,
            config,
            outcome,
            settings.pii_mode,
            extra=extra,
            first_step=("extract", f"trafilatura {TRAFILATURA_VERSION}"),
        )
    return outcome


def _not_extracted(row: Record, extra: CleanRecord, why: str) -> CleanRecord:
    """A page excluded before extraction: no text, its evidence, and why in its provenance."""
    return {
        **row,
        "text": None,
        "html": None,
        "language_score": None,
        "pii": _pii_counts(Counter()),
        "lines_removed": 0,
        "provenance": _steps(row, ("extract", f"{NOT_EXTRACTED}excluded before it ({why})")),
        **extra,
    }


def clean_documents(rows: list[Record], kind: str, settings: CleanSettings) -> CleanOutcome:
    """Text collection documents or social posts: the text is already there, inside its
    distributor's wrapper for some collections (a Project Gutenberg book)."""
    outcome = CleanOutcome()
    config = settings.quality[kind]
    for row in rows:
        text, step = row["text"], None
        if config.wrappers and text and (span := find_wrapper(text, config.wrappers)):
            outcome.wrappers_stripped[span.wrapper] += 1
            row = _with_span(row, span.start, span.end)
            step = (
                "strip_wrapper",
                f"{span.wrapper}: kept characters {span.start}-{span.end} of {len(text)}",
            )
            text = text[span.start : span.end]
        clean_text_record(row, text, config, outcome, settings.pii_mode, first_step=step)
    return outcome


def _with_span(row: Record, start: int, end: int) -> Record:
    provenance = dict(row["provenance"] or {})
    provenance["text_span"] = {"start": start, "end": end}
    return {**row, "provenance": provenance}


def perceptual_hash(path: UPath) -> str:
    """64-bit DCT perceptual hash (imagehash.phash, Zauner 2010), as 16 hex digits."""
    with path.open("rb") as handle, Image.open(handle) as image:
        return str(imagehash.phash(image))


def clean_images(rows: list[Record], root: UPath, settings: CleanSettings) -> CleanOutcome:
    """Image records to image-text rows: a cleaned caption and a perceptual hash."""
    outcome = CleanOutcome()
    config = settings.quality["images"]
    for row in rows:
        caption = normalise_text(row["caption"] or "")
        if len(caption) < max(config.min_chars, 1):
            outcome.drop(row, "caption", "no_caption", caption or None)
            continue
        image = row["image"] or {}
        phash = None
        if image.get("file"):
            try:
                phash = perceptual_hash(root / image["file"])
            except (OSError, ValueError) as error:
                outcome.drop(row, "image", "image_unreadable", caption, detail=str(error))
                continue
        language, score = _language(caption, row.get("language"))
        caption, pii = redact_pii(caption, settings.pii_mode)
        outcome.pii.update(pii)
        outcome.kept.append(
            {
                **row,
                "caption": caption,
                "language": language,
                "language_score": score,
                "phash": phash,
                "pii": _pii_counts(pii),
                "lines_removed": 0,
                "licence_evidence": [],
                "provenance": _steps(
                    row,
                    ("normalise", f"ftfy {FTFY_VERSION}; NFC"),
                    ("phash", f"imagehash {IMAGEHASH_VERSION}"),
                    ("language", LANGUAGE_MODEL),
                    ("pii", f"commons {__version__}; {settings.pii_mode}"),
                ),
            }
        )
    return outcome


def settings_summary(settings: CleanSettings, kind: str) -> dict[str, Any]:
    """The settings in force for a kind, for the asset's metadata (a run is reproducible)."""
    return json.loads(
        json.dumps(
            {
                "source": settings.source,
                "pii_mode": settings.pii_mode,
                "decide_first": settings.decide_first,
                "quality": asdict(settings.quality[kind]),
            },
            default=str,
            sort_keys=True,
        )
    )
