"""Partitions of the source assets, shared by every downstream asset of the same source kind so
that partition lineage is one-to-one (identity mapping)."""

from __future__ import annotations

import os

import dagster as dg

from commons_assets.settings import data_root
from commons_assets.sources.layout import social_days

archive_partitions = dg.DynamicPartitionsDefinition(name="archives")
text_partitions = dg.DynamicPartitionsDefinition(name="text_collections")
image_partitions = dg.DynamicPartitionsDefinition(name="image_collections")

SOCIAL_START_ENV = "COMMONS_SOCIAL_START"
FALLBACK_SOCIAL_START = "2026-11-01"


def social_start_date() -> str:
    """First day of the social partitions: `$COMMONS_SOCIAL_START`, else the earliest day folder
    in the data root, else a fixed date. Days with no folder are days without posts."""
    if configured := os.environ.get(SOCIAL_START_ENV):
        return configured
    days = social_days(data_root() / "sources")
    return min(days) if days else FALLBACK_SOCIAL_START


# end_offset=1 makes today a partition too: posts arrive during the day.
social_partitions = dg.DailyPartitionsDefinition(start_date=social_start_date(), end_offset=1)
