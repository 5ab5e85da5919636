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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RAY = str(Path(sys.executable).parent / "ray")
POSTGRES_ENV = "DAGSTER_PG_TEST_URL"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


class ClusterUnavailable(RuntimeError):
    """Ray or PostgreSQL cannot be started or reached here."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def ray_head(cpus: int) -> Iterator[str]:
    """A Ray head on localhost with `cpus` CPUs (the engine's workers), its own ports and
    temporary folder; yields its job-submission address; stopped afterwards."""
    dashboard = free_port()
    # Ray's sockets live under its temporary folder: a short path (Unix sockets' limit).
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    command = [
        RAY,
        "start",
        "--head",
        f"--port={free_port()}",
        f"--num-cpus={cpus}",
        "--dashboard-host=127.0.0.1",
        f"--dashboard-port={dashboard}",
        f"--temp-dir={temp}",
        "--disable-usage-stats",
    ]
    try:
        # The steps' entrypoint is `dagster api execute_step`: this Python's scripts first.
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
        yield f"http://127.0.0.1:{dashboard}"
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
