"""`commons bench licences`: how many of the licence statements in real provider payloads Commons
recognises, and whether any is classified more permissively than it says.

Inputs (../shared/corpora): the Openverse provider API responses under
`images/openverse_provider_responses/<provider>/` and Project Gutenberg's per-book metadata
under `texts/gutenberg/pg*/metadata.yaml`. Each provider names its licence in its own fields
(`PROVIDER_FIELDS`: what Openverse's own ingestion reads); every string found there is a
statement. A statement is recognised when a rule classifies it (a rights statement that calls
for review, such as NKC, is recognised and held). Each distinct
statement's expected outcome is hand-checked in `licences_expected.tsv` beside this file; a
statement classified with a less restrictive outcome than expected is a failure whatever the
share. Flickr gives licence ids, translated by Flickr's own table (flickr.photos.licenses).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from commons_assets.rights.licences import RESTRICTIVENESS, classify_licence

EXPECTED = Path(__file__).with_name("licences_expected.tsv")
GUTENBERG_RIGHTS = re.compile(r"^rights(?:_url)?:[ \t]*(?P<value>\S.*)$", re.MULTILINE)
GOAL = 0.95
# provider -> field names whose values state a licence (a dict value: its "$", "href", "uri",
# "name" or "shortName"); a field "a.b" is field b inside field a.
PROVIDER_FIELDS: dict[str, tuple[str, ...]] = {
    "brooklynmuseum": ("rights_type.name",),
    "clevelandmuseum": ("share_license_status",),
    "europeana": ("rights",),
    "finnishmuseums": ("imageRights.copyright", "imageRights.link"),
    "flickr": ("license",),
    "freesound": ("license",),
    "inaturalist": ("license_url",),
    "jamendo": ("license_ccurl",),
    "metropolitan_museum_of_art": ("isPublicDomain",),
    "museumvictoria": ("licence.uri", "licence.shortName", "rightsStatement"),
    "nappy": ("license",),
    "nypl": ("rightsStatementURI",),
    "phylopic": ("license.href",),
    "rawpixel": ("license", "licenseUrl"),
    "sciencemuseum": ("usage_terms",),
    "smithsonian": ("access",),
    "smk": ("rights",),
    "wikimedia": ("LicenseShortName", "LicenseUrl", "License"),
}
# flickr.photos.licenses.getInfo: licence id -> the licence it names.
FLICKR_LICENCES = {
    "0": "All Rights Reserved",
    "1": "https://creativecommons.org/licenses/by-nc-sa/2.0/",
    "2": "https://creativecommons.org/licenses/by-nc/2.0/",
    "3": "https://creativecommons.org/licenses/by-nc-nd/2.0/",
    "4": "https://creativecommons.org/licenses/by/2.0/",
    "5": "https://creativecommons.org/licenses/by-sa/2.0/",
    "6": "https://creativecommons.org/licenses/by-nd/2.0/",
    "7": "No known copyright restrictions",
    "8": "United States Government Work",
    "9": "https://creativecommons.org/publicdomain/zero/1.0/",
    "10": "https://creativecommons.org/publicdomain/mark/1.0/",
}


def _texts(value: Any) -> list[str]:
    """The statements in a field's value (a list holds several)."""
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return [text] if (text := _text(value)) is not None else []


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = ("$", "value", "href", "uri", "name", "shortName")
        value = next((value[k] for k in keys if k in value), None)
        if isinstance(value, dict):
            return _text(value)
    if isinstance(value, bool):
        return "Public domain" if value else None  # the Met's isPublicDomain flag
    if isinstance(value, int | float):
        return str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _values(node: Any, field: str) -> Iterator[Any]:
    """Every value of `field` ("a.b": b inside a) anywhere in a JSON document."""
    first, _, rest = field.partition(".")
    if isinstance(node, dict):
        for key, value in node.items():
            if key == first:
                if rest:
                    yield from _values_here(value, rest)
                else:
                    yield value
            yield from _values(value, field)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item, field)


def _values_here(node: Any, field: str) -> Iterator[Any]:
    first, _, rest = field.partition(".")
    for item in node if isinstance(node, list) else [node]:
        if isinstance(item, dict) and first in item:
            yield from (_values_here(item[first], rest) if rest else [item[first]])


def _documents(folder: Path) -> Iterator[Any]:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        try:
            yield json.loads(raw)
        except ValueError:
            # iNaturalist's fixture is a Python repr of database rows: take its licence URLs.
            text = raw.decode("utf-8", "replace")
            yield [{"license_url": url} for url in re.findall(r"'license_url': '([^']+)'", text)]


def provider_statements(corpus: Path) -> dict[str, list[str]]:
    """provider -> every licence statement found in its payloads (one per occurrence)."""
    found: dict[str, list[str]] = {}
    root = corpus / "images" / "openverse_provider_responses"
    for provider, fields in PROVIDER_FIELDS.items():
        if not (root / provider).is_dir():
            continue
        statements = []
        for document in _documents(root / provider):
            for field in fields:
                for value in _values(document, field):
                    for text in _texts(value):
                        if provider == "flickr":
                            text = FLICKR_LICENCES.get(text, text)
                        statements.append(text)
        found[provider] = statements
    books = sorted((corpus / "texts" / "gutenberg").glob("pg*/metadata.yaml"))
    if books:
        # Top-level `rights:` and `rights_url:` lines (the files use custom YAML tags, e.g.
        # `!lcsh`, that a safe YAML loader refuses).
        found["gutenberg"] = [
            value
            for book in books
            for match in GUTENBERG_RIGHTS.finditer(book.read_text(encoding="utf-8"))
            if (value := match["value"].strip().strip("'\""))
        ]
    return found


def expected_outcomes(path: Path = EXPECTED) -> dict[str, str]:
    """statement -> the outcome a careful reader gives it (hand-checked)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["statement"]: row["expected_outcome"] for row in rows}


def run(corpus: Path, expected_path: Path = EXPECTED) -> int:
    statements = provider_statements(corpus)
    if not statements:
        print(f"no provider payloads under {corpus} (../shared/corpora)")
        return 2
    expected = expected_outcomes(expected_path)
    print("licence statements in real provider payloads (recognised = classified by a rule)")
    print(
        f"{'provider':28s} {'statements':>10s} {'distinct':>8s} {'recognised':>10s}  too permissive"
    )
    totals: Counter[str] = Counter()
    too_permissive: dict[str, set[str]] = defaultdict(set)
    unchecked: set[str] = set()
    for provider, found in sorted(statements.items()):
        recognised = 0
        for statement in found:
            verdict = classify_licence(statement)
            # Recognised: classified by a rule (NKC or UND are recognised, and held by policy).
            recognised += verdict.matched_by not in ("none", "unrecognised") and bool(
                verdict.normalised
            )
            if statement not in expected:
                unchecked.add(statement)
            elif RESTRICTIVENESS[verdict.outcome] < RESTRICTIVENESS[expected[statement]]:
                too_permissive[provider].add(f"{statement!r} -> {verdict.outcome}")
        share = recognised / len(found) if found else 1.0
        totals.update(statements=len(found), recognised=recognised)
        print(
            f"{provider:28s} {len(found):10d} {len(set(found)):8d} {share:10.1%}  "
            f"{len(too_permissive[provider])}"
        )
    overall = totals["recognised"] / totals["statements"] if totals["statements"] else 1.0
    print(f"{'all':28s} {totals['statements']:10d} {'':8s} {overall:10.1%}  (goal >= {GOAL:.0%})")
    for provider, cases in sorted(too_permissive.items()):
        for case in sorted(cases):
            print(f"  TOO PERMISSIVE {provider}: {case}")
    for statement in sorted(unchecked):
        print(f"  not in {expected_path.name} (check it by hand): {statement!r}")
    failed = overall < GOAL or any(too_permissive.values()) or bool(unchecked)
    return 1 if failed else 0
