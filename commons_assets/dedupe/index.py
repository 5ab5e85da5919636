"""The persisted duplicate index: which signature files have been indexed, and the confirmed
duplicate pairs found so far (`lake/_dedupe_index/`). Adding a partition reads that partition in
full and, from the partitions already indexed, only the rows that share an LSH bucket, a hash or
a pHash chunk with it (one DuckDB scan of the key columns: the index lookup); pairs among old
partitions are never recomputed. A removed or re-materialized partition loses its pairs first,
so no stale entry survives."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from commons_assets.dedupe.clusters import DedupeSettings, find_edges
from commons_assets.lake import write_parquet_atomic

EDGE_SCHEMA: dict[str, pl.DataType] = {
    "first_id": pl.String,
    "second_id": pl.String,
    "first_file": pl.String,
    "second_file": pl.String,
    "match": pl.String,
    "similarity": pl.Float64,
}


@dataclass
class IndexUpdate:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reindexed: list[str] = field(default_factory=list)
    rows_read_in_full: int = 0
    lookup_rows: int = 0
    lookup_seconds: float = 0.0
    new_pairs: int = 0


def _state(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _lookup(files: dict[str, Path], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the indexed files that share a key or hash with `rows`."""
    if not files or not rows:
        return []
    keys = sorted({int(k) for row in rows for k in row.get("band_keys") or []})
    hashes = sorted({row["sha256"] for row in rows if row.get("sha256")})
    paths = [str(path) for path in files.values()]
    label_of = {str(path): label for label, path in files.items()}
    # A hash semi-join of the unnested keys over the key columns only (list_has_any compared
    # every indexed key with every new key: 0.13 s at 3,000 indexed rows); the full rows of the
    # few hits are then read from their own files.
    query = """
        SELECT DISTINCT filename, id FROM (
            SELECT filename, id, unnest(band_keys) AS key
            FROM read_parquet($paths, union_by_name = true, filename = true)
        ) WHERE key IN (SELECT unnest($keys::UBIGINT[]))
        UNION
        SELECT filename, id FROM read_parquet($paths, union_by_name = true, filename = true)
        WHERE sha256 IN (SELECT unnest($hashes::VARCHAR[]))
    """
    with duckdb.connect() as connection:
        hits = connection.sql(
            query, params={"paths": paths, "keys": keys, "hashes": hashes}
        ).fetchall()
    wanted: dict[str, set[str]] = {}
    for filename, record_id in hits:
        wanted.setdefault(filename, set()).add(record_id)
    found_rows: list[dict[str, Any]] = []
    for filename, ids in sorted(wanted.items()):
        frame = pl.read_parquet(filename).filter(pl.col("id").is_in(sorted(ids)))
        found_rows += [{**row, "file": label_of[filename]} for row in frame.to_dicts()]
    return found_rows


SETTINGS_KEY = "__settings__"


def update_index(
    root: Path,
    current: dict[str, Path],
    settings: DedupeSettings | None = None,
    fingerprint: str = "defaults",
) -> tuple[pl.DataFrame, IndexUpdate]:
    """Bring the index in step with the current signature files; returns all confirmed pairs.
    Different settings (`fingerprint`) re-index everything."""
    settings = settings or DedupeSettings()
    folder = root / "lake" / "_dedupe_index"
    manifest_path, edges_path = folder / "manifest.json", folder / "edges.parquet"
    manifest: dict[str, str] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    )
    reset = manifest.pop(SETTINGS_KEY, fingerprint) != fingerprint
    if reset:
        manifest = {}  # new settings: every pair must be found and confirmed again
    edges = (
        pl.read_parquet(edges_path)
        if edges_path.exists() and not reset
        else pl.DataFrame(schema=EDGE_SCHEMA)
    )
    update = IndexUpdate()
    states = {label: _state(path) for label, path in current.items()}
    update.removed = sorted(set(manifest) - set(current))
    update.reindexed = sorted(k for k in current if k in manifest and manifest[k] != states[k])
    update.added = sorted(set(current) - set(manifest))
    stale = set(update.removed) | set(update.reindexed)
    if stale:
        edges = edges.filter(
            ~pl.col("first_file").is_in(list(stale)) & ~pl.col("second_file").is_in(list(stale))
        )
    indexed = {k: current[k] for k in manifest if k in current and k not in stale}
    new_edges: list[dict[str, Any]] = []
    for label in sorted(set(update.added) | set(update.reindexed)):
        rows = [{**row, "file": label} for row in pl.read_parquet(current[label]).to_dicts()]
        began = time.perf_counter()
        existing = _lookup(indexed, rows)
        update.lookup_seconds += time.perf_counter() - began
        update.rows_read_in_full += len(rows)
        update.lookup_rows += len(existing)
        file_of = {row["id"]: row["file"] for row in [*existing, *rows]}
        for first, second, match, similarity in find_edges(rows, existing, settings):
            new_edges.append(
                {
                    "first_id": first,
                    "second_id": second,
                    "first_file": file_of[first],
                    "second_file": file_of[second],
                    "match": match,
                    "similarity": similarity,
                }
            )
        indexed[label] = current[label]
    update.new_pairs = len(new_edges)
    edges = pl.concat([edges, pl.DataFrame(new_edges, schema=EDGE_SCHEMA)]).sort(
        ["first_id", "second_id"]
    )
    folder.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(edges, edges_path)
    temporary = manifest_path.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({**states, SETTINGS_KEY: fingerprint}, indent=1, sort_keys=True)
    )
    os.replace(temporary, manifest_path)
    return edges, update


def endpoint_records(current: dict[str, Path], edges: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """The rows of every record that takes part in a pair (for the survivor rule)."""
    files = sorted(set(edges["first_file"]) | set(edges["second_file"]))
    wanted = set(edges["first_id"]) | set(edges["second_id"])
    records: dict[str, dict[str, Any]] = {}
    for label in files:
        if label in current:
            frame = pl.read_parquet(current[label]).filter(pl.col("id").is_in(list(wanted)))
            records.update({row["id"]: row for row in frame.to_dicts()})
    return records
