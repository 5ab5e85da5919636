"""`croissant.json` for a release tier (MLCommons Croissant 1.0, with the Responsible-AI fields
that apply), built with `mlcroissant` itself so that what we write is what its loader reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import mlcroissant as mlc
import polars as pl

from commons_assets.publish.columns import SCALAR_COLUMNS

CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"


class CroissantError(ValueError):
    """mlcroissant reported errors for the metadata we built."""


def semantic_version(version: str) -> str:
    """Croissant expects MAJOR.MINOR.PATCH: `2026-11-24.1` becomes `2026.1124.1`."""
    day, number = version.split(".")
    year, month, date = (int(part) for part in day.split("-"))
    return f"{year}.{month * 100 + date}.{int(number)}"


def croissant(
    version: str,
    tier: str,
    frames: dict[str, pl.DataFrame],
    published: dt.date,
    policy_summary: str,
) -> dict:
    licences = sorted(
        {
            v
            for f in frames.values()
            for v in f["licence"].drop_nulls().to_list()
            if v.startswith("http")
        }
    )
    languages = sorted({v for f in frames.values() for v in f["language"].drop_nulls().to_list()})
    distribution = [
        mlc.FileSet(
            id=f"{name}-shards",
            name=f"{name}-shards",
            encoding_formats=["application/x-parquet"],
            includes=[f"{name}/*.parquet"],
        )
        for name in sorted(frames)
    ]
    record_sets = [
        mlc.RecordSet(
            id=name,
            name=name,
            fields=[
                mlc.Field(
                    id=f"{name}/{column}",
                    name=column,
                    data_types=[mlc.DataType.TEXT],
                    source=mlc.Source(
                        file_set=f"{name}-shards", extract=mlc.Extract(column=column)
                    ),
                )
                for column in SCALAR_COLUMNS[name]
            ],
        )
        for name in sorted(frames)
    ]
    metadata = mlc.Metadata(
        name=f"commons-{version}-{tier}",
        description=(
            f"Commons release {version}, {tier} tier: openly licensed or consented text and "
            "image-text records, each with its source, licence, consent evidence and "
            "processing history."
        ),
        license=licences or None,
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
            "Public-domain status is as stated by the source; NoC-US records are public domain "
            "in the United States only (flagged per record).",
            f"Policy in force: {policy_summary}",
        ],
        personal_sensitive_information=[
            "E-mail addresses, phone numbers and public IP addresses are replaced by "
            "placeholders; names in text are not removed."
        ],
        data_use_cases=["Pre-training and evaluation of language and vision-language models."],
    )
    errors = metadata.ctx.issues.errors
    if errors:
        raise CroissantError("; ".join(sorted(str(e) for e in errors)))
    return metadata.to_json()


def write_croissant(folder: Path, document: dict) -> Path:
    path = folder / "croissant.json"
    path.write_text(json.dumps(document, indent=1, sort_keys=True, default=str) + "\n")
    return path
