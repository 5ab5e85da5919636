"""Crash safety and concurrency of `commons build`, as a user meets them: the build is killed
(SIGKILL, a subprocess) at several points and run again, or two builds run at once; the release
comes out as an uninterrupted build makes it, byte for byte, and nothing half-written shows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from commons_tests.conftest import copy_sample

BUILD = [sys.executable, "-c", "import sys; from commons_assets.cli import main; sys.exit(main())"]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "COMMONS_DATA")}
    return env | {"PYTHONUNBUFFERED": "1"}


def build(root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BUILD, "build", "--data", str(root)],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def started_build(root: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BUILD, "build", "--data", str(root)],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def killed_build(root: Path, cwd: Path, marker: str) -> str:
    """Start a build and SIGKILL it as soon as it prints a line with `marker`; its output."""
    process = started_build(root, cwd)
    seen = []
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=600)
    return "".join(seen)


def release_files(root: Path) -> tuple[str, list[dict]]:
    releases = root / "releases"
    version = (releases / "LATEST").read_text().strip()
    manifest = json.loads((releases / version / "MANIFEST.json").read_text())
    return version, manifest["files"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict]]:
    home = tmp_path_factory.mktemp("uninterrupted")
    root = copy_sample(home / "data")
    result = build(root, home)
    assert result.returncode == 0, result.stdout + result.stderr
    return release_files(root)


@pytest.mark.parametrize(
    "marker",
    ["ok    corpus_texts", "ok    site_policies", "ok    rights_images", "ok    dedup_clusters"],
)
def test_a_build_killed_and_run_again_gives_the_same_release(
    tmp_path: Path, marker: str, uninterrupted: tuple[str, list[dict]]
) -> None:
    root = copy_sample(tmp_path / "data")
    output = killed_build(root, tmp_path, marker)
    assert marker in output
    rerun = build(root, tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert release_files(root) == uninterrupted
    releases = sorted(p.name for p in (root / "releases").iterdir() if not p.name.startswith("."))
    assert releases == sorted(["LATEST", uninterrupted[0]])  # no twin, no half release
    # Nothing half-written is left where a reader would take it for data.
    assert not [p for p in (root / "lake").rglob("*.parquet") if p.name.startswith(".")]


def test_two_builds_at_once_make_one_correct_release(
    tmp_path: Path, uninterrupted: tuple[str, list[dict]]
) -> None:
    root = copy_sample(tmp_path / "data")
    runs = [started_build(root, tmp_path) for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert release_files(root) == uninterrupted
    versions = [p.name for p in (root / "releases").iterdir() if not p.name.startswith(".")]
    assert sorted(versions) == sorted(["LATEST", uninterrupted[0]])


def test_trace_after_a_kill_shows_no_half_written_release(tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "data")
    killed_build(root, tmp_path, "ok    dedup_clusters")
    staging = root / "releases" / ".staging"
    staging.mkdir(parents=True, exist_ok=True)  # as a kill during staging leaves it
    (staging / "2099-01-01.1").mkdir(exist_ok=True)
    result = subprocess.run(
        [*BUILD, "trace", "us-constitution-preamble", "--data", str(root)],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "2099-01-01.1" not in result.stdout and ".staging" not in result.stdout
