"""`croissant.json` for a release tier (MLCommons Croissant 1.0, with the Responsible-AI fields
that apply), built with `mlcroissant` itself so that what we write is what its loader reads."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING

from upath import UPath

from commons_assets.publish.columns import SCALAR_COLUMNS
from commons_assets.publish.ledger import TierFacts
from commons_assets.records import COLUMN_DESCRIPTIONS

# mlcroissant is imported by the functions that use it: at module level it cost 0.44 s of the
# start of every process that loads the code location, most of which never writes a release.
if TYPE_CHECKING:
    import mlcroissant as mlc

CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"


SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")
# The consented tier's records carry no licence: what governs their use is stated instead.
CONSENT_TERMS = "No licence: published with the authors' consent (user intents); see the card"


class CroissantError(ValueError):
    """mlcroissant reported errors or warnings for the metadata we built."""


def semantic_version(version: str) -> str:
    """Croissant expects MAJOR.MINOR.PATCH (mlcroissant warns otherwise): `2026-11-24.1` is
    `2026.1124.1+2026-11-24.1`, the release version kept as is in SemVer's build metadata."""
    day, number = version.split(".")
    year, month, date = (int(part) for part in day.split("-"))
    return f"{year}.{month * 100 + date}.{int(number)}+{version}"


def licence_link(licence: str) -> str:
    """Where a licence's text is: a URI (CC, rightsstatements.org) is its own link, an SPDX id
    its page on spdx.org; anything else (an expression, free text) has none."""
    if licence.startswith(("http://", "https://")):
        return licence
    if SPDX_ID.fullmatch(licence):
        return f"https://spdx.org/licenses/{licence}.html"
    return ""


def licence_entries(licences: set[str], unlicensed: bool) -> list[str | mlc.CreativeWork]:
    """Croissant `license` values for every licence form a release holds: its link where it has
    one, else a CreativeWork named by it."""
    import mlcroissant as mlc

    entries: list[str | mlc.CreativeWork] = [
        licence_link(licence) or mlc.CreativeWork(name=licence) for licence in sorted(licences)
    ]
    if unlicensed:
        entries.append(mlc.CreativeWork(name=CONSENT_TERMS))
    return entries


def _field(config: str, column: str, data_type: str, json_path: str | None = None) -> mlc.Field:
    import mlcroissant as mlc

    return mlc.Field(
        id=f"{config}/{column}",
        name=column,
        description=COLUMN_DESCRIPTIONS[column],
        data_types=[data_type],
        source=mlc.Source(
            file_set=f"{config}-shards",
            extract=mlc.Extract(column=column),
            transforms=[mlc.Transform(json_path=json_path)] if json_path else [],
        ),
    )


def _fields(config: str) -> list[mlc.Field]:
    """The scalar columns as text, and an image_text shard's images as image objects."""
    import mlcroissant as mlc

    fields = [_field(config, column, mlc.DataType.TEXT) for column in SCALAR_COLUMNS[config]]
    if config == "image_text":
        # The bytes of the {bytes, path} struct that `datasets` reads as an Image.
        fields.append(_field(config, "image_data", mlc.DataType.IMAGE_OBJECT, "bytes"))
    return fields


def croissant(
    version: str,
    tier: str,
    facts: TierFacts,
    published: dt.date,
    policy_summary: str,
) -> dict:
    import mlcroissant as mlc

    licences = {licence for licence, _ in facts.licences if licence is not None}
    languages = facts.languages
    distribution = [
        mlc.FileSet(
            id=f"{name}-shards",
            name=f"{name}-shards",
            encoding_formats=["application/x-parquet"],
            includes=[f"{name}/*.parquet"],
        )
        for name in facts.configs
    ]
    record_sets = [
        mlc.RecordSet(id=name, name=name, fields=_fields(name)) for name in facts.configs
    ]
    metadata = mlc.Metadata(
        name=f"commons-{version}-{tier}",
        description=(
            f"Commons release {version}, {tier} tier: openly licensed or consented text and "
            "image-text records, each with its source, licence, consent evidence and "
            "processing history."
        ),
        license=licence_entries(licences, facts.unlicensed) or None,
        version=semantic_version(version),
        date_published=dt.datetime.combine(published, dt.time()),
        cite_as=f"Commons release {version} ({tier} tier)",
        in_language=languages or None,
        conforms_to=[CROISSANT_1_0],
        distribution=distribution,
        record_sets=record_sets,
        data_collection=(
            "Web archives (WARC), text collections, image collections and social posts with "
            "their authors' user-intent declarations, as listed in the card's Sources section."
        ),
        data_preprocessing_protocol=[
            "Main-text extraction with trafilatura (web pages)",
            "Unicode normalisation (ftfy, NFC) and language identification (fastText lid.176)",
            "Quality rules from C4, Gopher and FineWeb, chosen per source kind",
            "PII redaction (e-mail addresses, phone numbers, public IP addresses)",
            "Rights audit: takedowns, opt-outs, licence classes (policy in the card)",
            "Exact and MinHash-LSH near-duplicate removal, perceptual hashes for images",
        ],
        data_limitations=[
            "Public-domain status is as stated by the source; records public domain in one "
            "country only say which in `pd_jurisdiction` (NoC-US: the United States).",
            f"Policy in force: {policy_summary}",
        ],
        personal_sensitive_information=[
            "E-mail addresses, phone numbers and public IP addresses are replaced by "
            "placeholders; names in text are not removed."
        ],
        data_use_cases=["Pre-training and evaluation of language and vision-language models."],
    )
    # A warning is a defect too: what a reader's validator flags, we fix before publishing.
    if problems := metadata.ctx.issues.errors | metadata.ctx.issues.warnings:
        raise CroissantError("; ".join(sorted(str(e) for e in problems)))
    return metadata.to_json()


def write_croissant(folder: UPath, document: dict) -> UPath:
    path = folder / "croissant.json"
    path.write_text(json.dumps(document, indent=1, sort_keys=True, default=str) + "\n")
    return path
