"""The scale-out instance (deploy/postgres/dagster.yaml): runs, materializations and dynamic
partitions kept in PostgreSQL. Needs a PostgreSQL server (DAGSTER_PG_TEST_URL, default the local
one); skipped without one, except where COMMONS_REQUIRE_POSTGRES is set (CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from commons_assets.defs.sources.assets import corpus_texts
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_bench import cluster
from commons_tests.optional import import_or_skip
from commons_tests.runs import materialize
from commons_tests.server import REPO

psycopg2 = import_or_skip("psycopg2", required_by="COMMONS_REQUIRE_POSTGRES")
import_or_skip("dagster_postgres", required_by="COMMONS_REQUIRE_POSTGRES")

SERVER_URL = os.environ.get("DAGSTER_PG_TEST_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database on the server (commons_bench.cluster), dropped afterwards; DAGSTER_PG_URL
    names it."""
    try:
        with cluster.fresh_database(SERVER_URL) as url:
            monkeypatch.setenv("DAGSTER_PG_URL", url)
            yield url.replace("postgresql+psycopg2://", "postgresql://", 1)
    except cluster.ClusterUnavailable as error:
        if os.environ.get("COMMONS_REQUIRE_POSTGRES"):
            raise
        pytest.skip(str(error))


def test_the_postgres_instance_keeps_runs_partitions_and_materializations(
    database: str, lake: Lake, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        sync_partitions(instance, lake)
        assert materialize(
            [corpus_texts], partition_key="essays", resources=resources_for(lake), instance=instance
        ).success
    # A second process (here: a second instance object) sees what the first one recorded.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert "essays" in instance.get_dynamic_partitions("text_collections")
        event = instance.get_latest_materialization_event(dg.AssetKey("corpus_texts"))
        assert event is not None and event.dagster_event.partition == "essays"
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM runs WHERE status = 'SUCCESS'")
        assert cursor.fetchone()[0] == 1
