"""A collection's terms (`collection.json`'s `"gated": true`), read by its source asset with
the records, recorded in the source's materialization, applied by the audit from there, and
compared with the file again by the release: a collection gated after it was read is not
published open on its old terms."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from upath import UPath

from commons_assets.sources.layout import within
from commons_assets.sources.texts import COLLECTION_FILE

# Materialization metadata of a source partition (and of its audit): the terms read.
GATED = "collection_gated"
PROBLEM = "collection_terms_problem"
FINGERPRINT = "collection_terms"
ABSENT = "absent"  # the fingerprint of a collection without collection.json


@dataclass(frozen=True)
class CollectionTerms:
    """Whether the collection is gated; why its terms cannot be known (the audit then holds
    its admitted records); and which file content they were read from."""

    gated: bool = False
    problem: str | None = None
    fingerprint: str = ABSENT

    def metadata(self) -> dict[str, str | bool]:
        found: dict[str, str | bool] = {GATED: self.gated, FINGERPRINT: self.fingerprint}
        if self.problem is not None:
            found[PROBLEM] = self.problem
        return found

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, object]) -> CollectionTerms | None:
        """The terms a materialization recorded, or None when it recorded none."""
        gated, fingerprint = metadata.get(GATED), metadata.get(FINGERPRINT)
        if not isinstance(gated, bool) or not isinstance(fingerprint, str):
            return None
        problem = metadata.get(PROBLEM)
        return cls(gated, problem if isinstance(problem, str) else None, fingerprint)


def terms_file(sources: UPath, kind: str, partition: str) -> UPath:
    return sources / kind / partition / COLLECTION_FILE


def fingerprint_of(path: UPath) -> str:
    """The content fingerprint of a collection.json, or ABSENT."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        return ABSENT
    except OSError as error:
        return f"unreadable: {type(error).__name__}"


def read_terms(root: UPath, kind: str, partition: str) -> CollectionTerms:
    """The terms of one collection. A collection.json that exists but cannot be read, or whose
    `gated` is not true or false, is a problem: the terms are unknown and the audit fails
    closed on it."""
    sources = root / "sources"
    path = terms_file(sources, kind, partition)
    shown = path.relative_to(root).as_posix()
    if not path.exists():
        return CollectionTerms()
    fingerprint = fingerprint_of(path)
    if not within(path, sources):
        return CollectionTerms(False, f"{shown} links outside the data root", fingerprint)
    try:
        terms = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        why = f"{shown} cannot be read ({type(error).__name__}: {error})"
        return CollectionTerms(False, why, fingerprint)
    if not isinstance(terms, dict):
        return CollectionTerms(False, f"{shown} is not a JSON object", fingerprint)
    gated = terms.get("gated", False)
    if not isinstance(gated, bool):
        why = f"{shown}: gated must be true or false, not {gated!r}"
        return CollectionTerms(False, why, fingerprint)
    return CollectionTerms(gated, None, fingerprint)
