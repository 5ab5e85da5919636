from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from commons_tests.builders import make_data_root


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return make_data_root(tmp_path / "data")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral
