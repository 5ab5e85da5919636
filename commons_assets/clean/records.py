"""Schemas of the clean stage: training-ready rows, and the rows a filter dropped (with why)."""

from __future__ import annotations

import polars as pl

from commons_assets.records import RECORD_SCHEMA, SIGNAL, Record, Schema, Signal

PII_KINDS = ("email", "phone", "ip", "card", "iban")
PII = pl.Struct(dict.fromkeys(PII_KINDS, pl.Int64))

CLEAN_SCHEMA: Schema = {
    **RECORD_SCHEMA,
    "language_score": pl.Float64,
    "licence_evidence": pl.List(SIGNAL),
    "pii": PII,
    "lines_removed": pl.Int64,
    "phash": pl.String,
}


class CleanRecord(Record, total=False):
    """A training-ready row (CLEAN_SCHEMA's columns; a test keeps the two equal)."""

    language_score: float | None
    licence_evidence: list[Signal]
    pii: dict[str, int]
    lines_removed: int
    phash: str | None


DROPPED_SCHEMA: Schema = {
    "id": pl.String,
    "source_kind": pl.String,
    "source_partition": pl.String,
    "source_id": pl.String,
    "source_uri": pl.String,
    "stage": pl.String,
    "reason": pl.String,
    "detail": pl.String,
    "language": pl.String,
    "excerpt": pl.String,
}
