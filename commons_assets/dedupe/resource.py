"""The duplicate index as a Dagster resource: `dedup_clusters` hands it the current signature
tables and asks it for the confirmed pairs and the records they join. Where the index lives (a
DuckDB file in the lake, dedupe/index.py) is the resource's business, so a deployment whose
workers share no disk can swap it for a shared one without touching the asset."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from upath import UPath

from commons_assets.dedupe.cluster_table import ClusterTable
from commons_assets.dedupe.clusters import DedupeSettings
from commons_assets.dedupe.index import (
    BATCH_ROWS,
    MEMORY_BYTES,
    IndexUpdate,
    SignatureTable,
    clusters,
    update_index,
)
from commons_assets.lake import Lake, local


class DedupeIndex(dg.ConfigurableResource):
    """The persisted, incremental duplicate index of one lake: a DuckDB file in the lake. On an
    object store, every worker that runs `dedup_clusters` works on a local copy of it (fetched
    when the store holds a newer one) and puts it back after each update: the store's copy is
    what every worker shares."""

    lake: Lake

    @property
    def path(self) -> UPath:
        return self.lake.index_path

    def update(
        self,
        current: Mapping[str, SignatureTable],
        settings: DedupeSettings,
        fingerprint: str,
        batch_rows: int = BATCH_ROWS,
        memory_bytes: int = MEMORY_BYTES,
    ) -> IndexUpdate:
        """Bring the index in step with `current` (label -> signature table): what changed."""
        with self._local_copy(write=True) as local:
            return update_index(local, current, settings, fingerprint, batch_rows, memory_bytes)

    def clusters(self, out: Path, memory_bytes: int = MEMORY_BYTES) -> ClusterTable:
        """The cluster rows of everything indexed, written to the local file `out`."""
        with self._local_copy(write=False) as local:
            return clusters(local, out, memory_bytes)

    @contextmanager
    def _local_copy(self, write: bool) -> Iterator[Path]:
        """The index as a local DuckDB file (DuckDB opens files, not objects). Two workers
        updating at once both put a copy in step with what they saw; the later one wins and the
        other's work is redone by the next update (the index records which signature tables it
        holds, by state), so a lost put costs time, never a wrong pair."""
        if not self.lake.on_object_store:
            yield local(self.path)
            return
        copy = self.lake.spool_folder.parent / "dedupe_index" / _digest(str(self.path))
        copy.mkdir(parents=True, exist_ok=True)
        database, seen = copy / "index.duckdb", copy / "state"
        stored = _state(self.path)
        if stored is None:
            database.unlink(missing_ok=True)
        elif not database.exists() or not seen.exists() or seen.read_text() != stored:
            self.path.fs.get_file(self.path.path, str(database))
        yield database
        if write:
            self.path.fs.put_file(str(database), self.path.path)
            seen.write_text(_state(self.path) or "")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _state(path: UPath) -> str | None:
    """What identifies one version of an object (its ETag, or size and time), None if absent."""
    try:
        info = path.fs.info(path.path)
    except FileNotFoundError:
        return None
    return str(
        info.get("ETag")
        or info.get("etag")
        or f"{info.get('size')}:{info.get('created')}"
        f":{info.get('LastModified') or info.get('mtime')}"
    )
