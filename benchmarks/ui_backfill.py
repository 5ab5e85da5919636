"""How long a backfill of every sample partition takes from the UI's side (`dagster dev` with the
repository's dagster.yaml: the backfill daemon, the run queue, the run launcher), against
`commons build` on the same sample in the same invocation, and the ratio (goal: at most 2x).

    python benchmarks/ui_backfill.py

The backfill is launched as the UI's "Materialize all" launches it (`launchPartitionBackfill`
with every asset and all partitions); the browser test `test_c_backfill_every_sample_partition_
from_the_graph` clicks the same button. Besides the ratio it prints when each run of the
backfill started and ended, so the time spent waiting for the daemon is visible.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from commons_tests.server import (  # noqa: E402  (a benchmark run from a checkout)
    LAUNCH_BACKFILL,
    running_server,
    wait_for_backfill,
    wait_for_partitions,
)

ASSETS = "{ assetNodes { assetKey { path } isMaterializable } }"
RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) { ... on Runs { results {
    runId status startTime endTime tags { key value }
    assetSelection { path }
  } } }
}
"""
SOURCES = ("archive_pages", "corpus_texts", "image_records", "social_posts")


def sample_copy(root: Path) -> Path:
    for part in ("sources", "policy"):
        shutil.copytree(REPO / "data" / part, root / part)
    return root


def build_seconds(work: Path) -> float:
    data = sample_copy(work / "build-data")
    started = time.perf_counter()
    subprocess.run(
        ["commons", "build", "--data", str(data)],
        cwd=work,  # no dagster.yaml here: an ephemeral instance, as a fresh checkout would use
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def backfill_seconds(work: Path) -> tuple[float, list[dict]]:
    home = work / "ui-home"
    home.mkdir()
    data = sample_copy(work / "ui-data")
    with running_server(home, data) as server:
        for asset in SOURCES:
            wait_for_partitions(server, asset)
        nodes = server.graphql(ASSETS)["assetNodes"]  # what "Materialize all" selects
        keys = [node["assetKey"] for node in nodes if node["isMaterializable"]]
        started = time.perf_counter()
        launched = server.graphql(
            LAUNCH_BACKFILL,
            {"params": {"assetSelection": keys, "allPartitions": True}},
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        status = wait_for_backfill(server, backfill_id, 900)
        seconds = time.perf_counter() - started
        if status != "COMPLETED_SUCCESS":
            print(f"backfill {status}; dagster dev log:\n{server.log.read_text()[-3000:]}")
        runs = server.graphql(
            RUNS, {"filter": {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}}
        )["runsOrError"]["results"]
    return seconds, runs


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        build = build_seconds(work)
        backfill, runs = backfill_seconds(work)
    first = min((run["startTime"] for run in runs if run["startTime"]), default=0.0)
    print(f"commons build (baseline): {build:.1f} s wall")
    print(f"UI backfill of every sample partition: {backfill:.1f} s wall, {len(runs)} runs")
    for run in sorted(runs, key=lambda r: r["startTime"] or 0):
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assets = ",".join(a["path"][-1] for a in run["assetSelection"] or [])
        print(
            f"  +{(run['startTime'] or first) - first:6.1f} s .. "
            f"+{(run['endTime'] or first) - first:6.1f} s  {run['status']:8s} "
            f"{assets}[{tags.get('dagster/partition', '')}]"
        )
    print(f"ratio backfill / build: {backfill / build:.2f}x (goal <= 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
