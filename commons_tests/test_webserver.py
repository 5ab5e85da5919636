"""`dagster dev` from the repository root serves the code location: /server_info and GraphQL
answer, the sensor registers the partitions, and a partition launched through the API (as the
UI's Materialize button does) runs in the daemon's run worker and writes its Parquet file; a
partition backfill launched through the API completes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from commons_tests.builders import SAMPLE_DAY, make_data_root
from commons_tests.server import (
    LAUNCH_BACKFILL,
    Server,
    materialized,
    running_server,
    wait_for_backfill,
    wait_for_partitions,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("dagster_home")
    with running_server(home, make_data_root(home / "data")) as running:
        yield running


ASSET_NODES = """
{ assetNodes {
    assetKey { path }
    groupName
    description
    isPartitioned
    partitionKeysByDimension { name partitionKeys }
} }
"""


def test_server_info_and_graphql_answer(server: Server) -> None:
    info = requests.get(f"{server.url}/server_info", timeout=10).json()
    assert "dagster_webserver_version" in info
    assert server.graphql("{ version }")["version"]


def test_asset_graph_lists_the_source_assets_with_their_partitions(server: Server) -> None:
    def partitions() -> dict[str, list[str]] | None:
        nodes = server.graphql(ASSET_NODES)["assetNodes"]
        keys = {
            node["assetKey"]["path"][-1]: [
                key for dim in node["partitionKeysByDimension"] for key in dim["partitionKeys"]
            ]
            for node in nodes
        }
        # The sensor runs by default; its first tick registers the dynamic partitions.
        return keys if keys.get("archive_pages") else None

    keys = server.wait_for("the sensor to register partitions", partitions)
    assert keys["archive_pages"] == ["site-a"]
    assert keys["corpus_texts"] == ["essays"]
    assert keys["image_records"] == ["photos"]
    assert SAMPLE_DAY in keys["social_posts"]
    nodes = {n["assetKey"]["path"][-1]: n for n in server.graphql(ASSET_NODES)["assetNodes"]}
    for name in ("archive_pages", "corpus_texts", "image_records", "social_posts"):
        assert nodes[name]["groupName"] == "sources"
        assert nodes[name]["isPartitioned"]
        assert nodes[name]["description"]


LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}
"""
RUN = """
query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }
"""
MATERIALIZATIONS = """
query Mats($path: [String!]!, $partition: String!) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset { assetMaterializations(partitions: [$partition]) {
      partition
      metadataEntries { label }
    } }
  }
}
"""


def test_materializing_a_partition_through_the_api_succeeds(server: Server) -> None:
    test_asset_graph_lists_the_source_assets_with_their_partitions(server)  # partitions known
    params = {
        "selector": {
            "repositoryLocationName": "commons",
            "repositoryName": "__repository__",
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": ["corpus_texts"]}],
        },
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "essays"}]},
    }
    launched = server.graphql(LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    def finished() -> str | None:
        status = server.graphql(RUN, {"id": run_id})["runOrError"]["status"]
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    assert server.wait_for("the run to finish", finished) == "SUCCESS"
    assert (server.data / "lake" / "corpus_texts" / "essays.parquet").exists()
    [materialization] = server.graphql(
        MATERIALIZATIONS, {"path": ["corpus_texts"], "partition": "essays"}
    )["assetOrError"]["assetMaterializations"]
    labels = {entry["label"] for entry in materialization["metadataEntries"]}
    assert {"dagster/row_count", "outcomes", "preview", "quarantine"} <= labels


def test_a_partition_backfill_launched_through_the_api_completes(server: Server) -> None:
    chain = ["corpus_texts", "clean_texts", "rights_texts"]
    expected = set(wait_for_partitions(server, "corpus_texts"))
    params = {"assetSelection": [{"path": [name]} for name in chain], "allPartitions": True}
    launched = server.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    assert wait_for_backfill(server, launched["backfillId"]) == "COMPLETED_SUCCESS"
    for name in chain:
        done, failed = materialized(server, name)
        assert done == expected and not failed, name
    assert (server.data / "lake" / "rights_texts" / "essays.parquet").exists()
