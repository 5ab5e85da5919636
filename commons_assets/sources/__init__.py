"""Source stage: one partitioned asset per source kind, parsing raw files into records."""

from commons_assets.sources import definitions

__all__ = ["definitions"]
