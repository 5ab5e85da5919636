"""Release ledgers (publish/ledger.py) filled from small frames, for the tests of what the
release says of its rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from commons_assets.batches import MIB
from commons_assets.publish.ledger import Ledger, release_ledger


@contextmanager
def ledger_with(
    scratch: Path,
    decisions: pl.DataFrame | None = None,
    clusters: pl.DataFrame | None = None,
    summary: Mapping[tuple[str, str], pl.DataFrame] | None = None,
    previous: Mapping[str, list[str]] | None = None,
    memory_bytes: int = 64 * MIB,
) -> Iterator[Ledger]:
    """A ledger holding these audit decisions, cluster rows, published rows by (tier, config)
    and previous release ids by config."""
    with release_ledger(scratch, memory_bytes) as ledger:
        if decisions is not None:
            ledger.add("decisions", decisions)
        ledger.fetch_times()
        if clusters is not None:
            ledger.add("clusters", clusters)
        ledger.clusters_added()
        files = {}
        for (tier, config), frame in (summary or {}).items():
            files[(tier, config)] = scratch / f"summary-{tier}-{config}.parquet"
            frame.write_parquet(files[(tier, config)])
        ledger.summarise(files)
        for config, ids in (previous or {}).items():
            ledger.add("previous", pl.DataFrame({"config": [config] * len(ids), "id": ids}))
        yield ledger
