"""`commons trace <record id or URL>`: where a record came from and why it was (not) admitted,
read from the lake and the releases alone."""

from __future__ import annotations

import json
from typing import Any

import duckdb
from upath import UPath

from commons_assets.lake import (
    DROPPED_FOLDER,
    NOT_CARRIED_FOLDER,
    QUARANTINE_FOLDER,
    Lake,
    is_remote,
)


def _query(files: list[UPath], where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    if not files:
        return []
    with duckdb.connect() as connection:
        if is_remote(files[0]):  # DuckDB reads the store through fsspec's own client
            connection.register_filesystem(files[0].fs)
        relation = connection.sql(
            f"SELECT * FROM read_parquet($files, union_by_name = true) WHERE {where}",
            params={"files": [f.as_uri() if is_remote(f) else str(f) for f in files], **params},
        )
        columns = relation.columns
        return [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]


def find_audited(root: UPath, key: str) -> list[dict[str, Any]]:
    files = Lake(root=str(root)).tables_of("rights_")
    return _query(files, "id = $key OR source_id = $key OR source_uri = $key", {"key": key})


def releases_containing(root: UPath, record_id: str) -> list[str]:
    found = []
    releases = Lake(root=str(root)).releases
    for version in (
        sorted(p for p in releases.iterdir() if p.is_dir() and not p.name.startswith("."))
        if releases.is_dir()
        else []
    ):
        shards = sorted(version.rglob("*.parquet"))
        if _query(shards, "id = $id", {"id": record_id}):
            found.append(version.name)
    return found


def cluster_of(root: UPath, record_id: str) -> list[dict[str, Any]]:
    path = Lake(root=str(root)).table_path("dedup_clusters")
    if not path.exists():
        return []
    mine = _query([path], "record_id = $id", {"id": record_id})
    if not mine:
        return []
    return _query([path], "cluster_id = $c", {"c": mine[0]["cluster_id"]})


def before_the_audit(root: UPath, key: str) -> list[str]:
    """Where a record stopped before the audit: dropped by a clean-stage rule (with what it
    measured), not carried by its reader (a deleted post, a non-HTML capture), or quarantined as
    unreadable input (named by source id, URL, file or file:line)."""
    lake = Lake(root=str(root))
    lines = []
    dropped = _query(
        lake.side_tables(DROPPED_FOLDER),
        "id = $key OR source_id = $key OR source_uri = $key",
        {"key": key},
    )
    for row in dropped:
        lines += [
            f"record {row['id']}",
            f"  source     {row['source_kind']} / {row['source_partition']}: {row['source_id']}",
            f"  uri        {row['source_uri']}",
            f"  dropped    by the clean stage ({row['stage']}), rule {row['reason']}"
            + (f": {row['detail']}" if row.get("detail") else ""),
            "  releases   none (never audited)",
            "",
        ]
    quarantined = _query(
        lake.side_tables(QUARANTINE_FOLDER),
        "source_id = $key OR source_file = $key "
        "OR source_file || ':' || coalesce(CAST(line AS VARCHAR), '') = $key",
        {"key": key},
    )
    skipped = _query(
        lake.side_tables(NOT_CARRIED_FOLDER),
        "source_id = $key",
        {"key": key},
    )
    for row in skipped:
        lines += [
            f"not carried {row['source_id']}",
            f"  source     {row['source_kind']} / {row['source_partition']}"
            + (f" {row['location']}" if row.get("location") else ""),
            f"  reason     {row['reason']} (left out by the reader on purpose)",
            "",
        ]
    for row in quarantined:
        lines += [
            f"quarantined input {row['source_file']} {row['location']}",
            f"  source     {row['source_kind']} / {row['source_partition']}"
            + (f": {row['source_id']}" if row.get("source_id") else ""),
            f"  reason     {row['reason']}" + (f": {row['detail']}" if row.get("detail") else ""),
            f"  excerpt    {json.dumps(row['excerpt'], ensure_ascii=False)[:200]}",
            "",
        ]
    return lines


def _quoted(value: str | None) -> str:
    """A value as a JSON string with its own characters (© stays ©, not \\u00a9)."""
    return "none" if value is None else json.dumps(value, ensure_ascii=False)


def _licence_line(record: dict) -> str:
    """What the source stated and what it was read as; "none stated" rather than None."""
    raw, licence, kind = (
        record.get("licence_raw"),
        record.get("licence"),
        record.get("licence_class"),
    )
    if raw is None and licence is None:
        return "none stated" + (f" [{kind}]" if kind else "")
    read_as = licence or "not recognised"
    return f"{_quoted(raw)} → {read_as}" + (f" [{kind}]" if kind else "")


def trace(root: UPath, key: str) -> str:
    """A readable account of one record (or every record matching a URL), wherever it stopped:
    quarantined, dropped by a clean rule, or audited (held, excluded, admitted, published)."""
    records = find_audited(root, key)
    if not records:
        if earlier := before_the_audit(root, key):
            return "\n".join(earlier)
        return f"no record has id, source id or URL {key!r} under {root}"
    lines: list[str] = []
    for record in records:
        provenance = record.get("provenance") or {}
        lines += [
            f"record {record['id']}",
            f"  source     {record['source_kind']} / {record['source_partition']}: "
            f"{record['source_id']}",
            f"  location   {provenance.get('source_file') or 'not recorded'}"
            + (f" offset {provenance['offset']}" if provenance.get("offset") is not None else "")
            + (f" line {provenance['line']}" if provenance.get("line") else ""),
            f"  uri        {record['source_uri']}",
            "  steps      "
            + " → ".join(f"{s['name']} ({s['version']})" for s in provenance.get("steps") or []),
            f"  licence    {_licence_line(record)}",
            f"  decision   {record['decision']} by gate {record['gate']}: "
            f"{record['decision_reason'] or 'no reason recorded'}",
            f"  tier       {record.get('tier') or 'none (not published)'}; "
            f"policy {record.get('policy') or 'not recorded'}",
            "  evidence",
        ]
        lines += [
            f"    - {e['channel']}: {_quoted(e['raw'])} → {e['verdict'] or 'no verdict'}"
            + (f" ({e['location']})" if e.get("location") else "")
            for e in record.get("evidence") or []
        ]
        members = cluster_of(root, record["id"])
        if members:
            lines.append("  cluster")
            lines += [
                f"    - {m['role']}: {m['source_kind']} {m['source_id']} "
                f"({m['match']}, similarity {m['similarity']:.2f})"
                for m in members
            ]
        else:
            lines.append("  cluster    none (no duplicate found)")
        contained = releases_containing(root, record["id"])
        lines.append("  releases   " + (", ".join(contained) if contained else "none"))
        lines.append("")
    return "\n".join(lines)
