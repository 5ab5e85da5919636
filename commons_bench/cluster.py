"""A throwaway scale-out profile on this machine: a Ray head with N CPUs on free local ports and
a fresh PostgreSQL database, for `commons bench scale` (1 vs 2 workers) and the profile's test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

RAY = str(Path(sys.executable).parent / "ray")
POSTGRES_ENV = "DAGSTER_PG_TEST_URL"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


class ClusterUnavailable(RuntimeError):
    """Ray or PostgreSQL cannot be started or reached here."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RayHead:
    jobs: str  # its job-submission (dashboard) address: COMMONS_RAY_ADDRESS
    gcs: str  # the address a driver connects to and a node joins: RAY_ADDRESS


@contextmanager
def ray_head(cpus: int) -> Iterator[RayHead]:
    """A Ray head on localhost with `cpus` CPUs (the engine's workers), its own ports and
    temporary folder; yields its addresses; stopped afterwards."""
    dashboard = free_port()
    gcs = free_port()
    # Ray's sockets live under its temporary folder: a short path (Unix sockets' limit).
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    command = [
        RAY,
        "start",
        "--head",
        f"--port={gcs}",
        f"--num-cpus={cpus}",
        "--dashboard-host=127.0.0.1",
        f"--dashboard-port={dashboard}",
        f"--temp-dir={temp}",
        "--disable-usage-stats",
    ]
    try:
        # A build's driver (`python -m commons_assets.ray_build`, or the launcher's `dagster api
        # execute_run`) is found on the head's PATH: this Python's scripts first.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        started = subprocess.run(
            command, capture_output=True, text=True, timeout=180, env={**os.environ, "PATH": path}
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(temp, ignore_errors=True)
        raise ClusterUnavailable(f"ray start: {error}") from error
    if started.returncode != 0:
        shutil.rmtree(temp, ignore_errors=True)
        raise ClusterUnavailable(f"ray start failed: {started.stderr[-2000:]}")
    try:
        yield RayHead(jobs=f"http://127.0.0.1:{dashboard}", gcs=f"127.0.0.1:{gcs}")
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


@contextmanager
def fresh_database(server: str | None = None) -> Iterator[str]:
    """A new database on the PostgreSQL server (DAGSTER_PG_TEST_URL, default the local one),
    dropped afterwards; yields its SQLAlchemy URL for DAGSTER_PG_URL."""
    import psycopg2

    server = server or os.environ.get(POSTGRES_ENV, LOCAL_POSTGRES)
    try:
        admin = psycopg2.connect(server, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise ClusterUnavailable(f"no PostgreSQL server at {server}: {error}") from error
    admin.autocommit = True
    name = f"commons_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        # The driver is named: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, while
        # dagster-postgres installs psycopg2.
        yield url.replace("postgresql://", "postgresql+psycopg2://", 1)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# What s3fs (botocore) needs to reach a local S3 server: its address and any credentials (the
# server accepts all). The scale-out profile forwards these to the steps (scale_out.FORWARDED).
def s3_settings(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "commons-test",
        "AWS_SECRET_ACCESS_KEY": "commons-test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@contextmanager
def s3_server() -> Iterator[str]:
    """An S3-compatible object store on localhost (moto's server mode, in memory), on a free
    port; yields its endpoint URL; stopped afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    endpoint = f"http://127.0.0.1:{port}"
    # It logs every request: into a file, never a pipe nobody reads (a full pipe blocks it).
    with tempfile.TemporaryFile() as log:
        try:
            server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        except OSError as error:
            raise ClusterUnavailable(f"moto server: {error}") from error
        try:
            _wait_for(server, port, log)
            yield endpoint
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def _wait_for(server: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    """Until the server answers on `port` (a minute at most)."""
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            log.seek(0)
            message = log.read().decode(errors="replace")
            raise ClusterUnavailable(f"moto server ended: {message[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise ClusterUnavailable(f"moto server did not answer on port {port}")
        time.sleep(0.2)
