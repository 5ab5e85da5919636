"""`dagster dev` from the repository root serves the code location: /server_info and GraphQL
answer, the sensor registers the partitions, and a partition launched through the API (as the
UI's Materialize button does) runs in the daemon's run worker and writes its Parquet file."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from commons_tests.builders import SAMPLE_DAY, make_data_root

REPO = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, url: str, data: Path, log: Path) -> None:
        self.url = url
        self.data = data
        self.log = log

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def location_loaded(self) -> bool:
        """True once the code location has loaded; fails at once if it failed to load."""
        entries = self.graphql(WORKSPACE)["workspaceOrError"]["locationEntries"]
        for entry in entries:
            loaded = entry["locationOrLoadError"]
            if loaded and loaded["__typename"] == "PythonError":
                raise AssertionError(f"code location failed to load: {loaded['message']}")
        return any(e["loadStatus"] == "LOADED" and e["locationOrLoadError"] for e in entries)

    def wait_for(self, what: str, check, seconds: float = STARTUP_SECONDS):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(1)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    data = make_data_root(home / "data")
    port = free_port()
    log = home / "dagster-dev.log"
    env = {**os.environ, "DAGSTER_HOME": str(home), "COMMONS_DATA": str(data)}
    with log.open("wb") as sink:
        # The README's command, with a temporary instance and data root and a free port.
        process = subprocess.Popen(
            [
                "dagster",
                "dev",
                "-w",
                str(REPO / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=home,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        server = Server(url, data, log)

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"dagster dev exited:\n{log.read_text()[-4000:]}")
            try:
                return requests.get(f"{url}/server_info", timeout=5).ok
            except requests.ConnectionError:
                return False

        server.wait_for("/server_info", answers)
        server.wait_for("the code location to load", server.location_loaded)
        yield server
    finally:
        # Stop the whole process tree (webserver, daemon, code servers, some of which start
        # their own sessions), even when a test failed.
        group = os.getpgid(process.pid)
        descendants = psutil.Process(process.pid).children(recursive=True)
        os.killpg(group, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            process.wait()
        _, alive = psutil.wait_procs(descendants, timeout=10)
        for leftover in alive:
            leftover.kill()
        # A code server respawned during shutdown is still in the group: end it too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


WORKSPACE = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""
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
