"""Runs of a few assets in the tests: the upstream tables they read come from the lake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from commons_assets.definitions import defs
from commons_assets.operations import with_upstream_sources


def materialize(selected: Sequence[Any], **kwargs: Any) -> dg.ExecuteInProcessResult:
    """`dg.materialize` of `selected` (assets and checks of the code location), reading their
    upstream tables from the lake as the UI's run of a selection does."""
    everything = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    return dg.materialize(with_upstream_sources(selected, everything), **kwargs)
