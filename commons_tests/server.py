"""`dagster dev` for tests: started as the README says, with a temporary instance, data root
and port, and always torn down with its whole process tree."""

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
import requests

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


@contextlib.contextmanager
def running_server(home: Path, data: Path, profile: Path = REPO) -> Iterator[Server]:
    """`dagster dev` (webserver and daemon) on a free port with `home` as DAGSTER_HOME and
    `data` as the data root, with the instance and workspace of `profile` (the embedded
    default, or `deploy/ray` with its variables in the environment); the whole process tree is
    stopped on exit, even after a failure."""
    shutil.copy(profile / "dagster.yaml", home / "dagster.yaml")
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
                str(profile / "workspace.yaml"),
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
ASSET_PARTITIONS = """
query Partitions($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode { partitionKeysByDimension { partitionKeys } }
  }
}
"""
LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}
"""
BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status numPartitions }
  }
}
"""
MATERIALIZED_PARTITIONS = """
query Materialized($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode {
      assetPartitionStatuses {
        ... on DefaultPartitionStatuses { materializedPartitions failedPartitions }
      }
    }
  }
}
"""
FINISHED_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def partitions(server: Server, asset: str) -> list[str]:
    node = server.graphql(ASSET_PARTITIONS, {"path": [asset]})["assetNodeOrError"]
    return [key for dim in node["partitionKeysByDimension"] for key in dim["partitionKeys"]]


def wait_for_partitions(server: Server, asset: str) -> list[str]:
    """The asset's partitions, once the source_partitions sensor has registered them."""
    return server.wait_for(f"partitions of {asset}", lambda: partitions(server, asset))


def wait_for_backfill(server: Server, backfill_id: str, seconds: float = 600) -> str:
    def finished() -> str | None:
        status = server.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        return status["status"] if status["status"] in FINISHED_BACKFILL else None

    return server.wait_for(f"backfill {backfill_id}", finished, seconds)


def materialized(server: Server, asset: str) -> tuple[set[str], set[str]]:
    """(materialized, failed) partitions of an asset."""
    node = server.graphql(MATERIALIZED_PARTITIONS, {"path": [asset]})["assetNodeOrError"]
    statuses = node["assetPartitionStatuses"]
    return set(statuses["materializedPartitions"]), set(statuses["failedPartitions"])
