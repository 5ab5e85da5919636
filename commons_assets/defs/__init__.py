"""The Dagster definitions, stage by stage (Dagster's `defs/` layout): each stage's assets,
checks, partitions and sensors, generated from the registry of source kinds (kinds.py). The
data logic they call lives beside, in commons_assets/<stage>/ (pure, testable without Dagster)."""
