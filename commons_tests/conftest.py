from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import dagster as dg
import pytest
from upath import UPath

from commons_assets.lake import Lake
from commons_tests.builders import make_data_root

REPO = Path(__file__).resolve().parents[1]

P = TypeVar("P", Path, UPath)


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return make_data_root(tmp_path / "data")


@pytest.fixture
def lake(data_root: Path) -> Lake:
    """The lake over the small test data root (`data_root`)."""
    return Lake(root=str(data_root))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def copy_sample(root: P) -> P:
    """The bundled sample's sources and policy, without any earlier build: into a local folder,
    or uploaded to a folder of an fsspec store."""
    for part in ("sources", "policy"):
        if isinstance(root, Path):
            shutil.copytree(REPO / "data" / part, root / part)
        else:
            root.fs.put(str(REPO / "data" / part), (root / part).path, recursive=True)
    return root


@pytest.fixture
def built_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Lake, dg.DagsterInstance]]:
    """The bundled sample built once (as `commons build` does), with the instance that knows
    its partitions and checks."""
    from commons_assets.build import build
    from commons_assets.definitions import defs

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    lake = Lake(root=str(copy_sample(tmp_path / "data")))
    with dg.DagsterInstance.ephemeral() as instance:
        assert build(defs, lake, instance, echo=lambda _: None)
        yield lake, instance
