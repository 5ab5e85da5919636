"""The duplicate index as a Dagster resource: `dedup_clusters` hands it the current signature
tables and asks it for the confirmed pairs and the records they join. Where the index lives (a
DuckDB file in the lake, dedupe/index.py) is the resource's business, so a deployment whose
workers share no disk can swap it for a shared one without touching the asset."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from commons_assets.dedupe.clusters import DedupeSettings
from commons_assets.dedupe.index import (
    IndexUpdate,
    SignatureTable,
    endpoint_records,
    update_index,
)
from commons_assets.lake import Lake


class DedupeIndex(dg.ConfigurableResource):
    """The persisted, incremental duplicate index of one lake."""

    lake: Lake

    @property
    def path(self) -> Path:
        return self.lake.index_path

    def update(
        self, current: Mapping[str, SignatureTable], settings: DedupeSettings, fingerprint: str
    ) -> tuple[pl.DataFrame, IndexUpdate]:
        """Bring the index in step with `current` (label -> signature table); every confirmed
        pair, and what changed."""
        return update_index(self.path, current, settings, fingerprint)

    def endpoints(self, edges: pl.DataFrame) -> dict[str, dict[str, Any]]:
        """id -> the clustering fields of every record a pair names."""
        return endpoint_records(self.path, edges)
