"""Schemas of the clean stage: training-ready rows, and the rows a filter dropped (with why)."""

from __future__ import annotations

import polars as pl

from commons_assets.records import RECORD_SCHEMA, SIGNAL, Schema

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
