"""The audit table: every cleaned record with its decision, the deciding gate and the evidence."""

from __future__ import annotations

import polars as pl

from commons_assets.clean.records import CLEAN_SCHEMA, CleanRecord
from commons_assets.records import SIGNAL, Schema, Signal

AUDIT_SCHEMA: Schema = {
    **CLEAN_SCHEMA,
    "gate": pl.String,
    "decision_reason": pl.String,
    "evidence": pl.List(SIGNAL),
    "licence_flags": pl.List(pl.String),
    "tier": pl.String,
    "policy": pl.String,
    "held_since": pl.String,  # ISO time a HOLD was first recorded for the record, else null
}


class AuditRecord(CleanRecord, total=False):
    """A cleaned record with its decision (AUDIT_SCHEMA's columns; a test keeps them equal)."""

    gate: str
    decision_reason: str
    evidence: list[Signal]
    licence_flags: list[str]
    tier: str | None
    policy: str
    held_since: str | None
