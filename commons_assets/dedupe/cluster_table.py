"""The clusters of everything the duplicate index holds, computed inside DuckDB and written as a
Parquet file: the same rows as `clusters.build_clusters` (connected components of the confirmed
pairs, one survivor each by `survivor_key`, each member's relation to its survivor), without
holding the pairs or the records in Python. DuckDB works within its memory limit and spills the
rest to disk, so the step's memory is bounded by that setting whatever the lake's size; the
Python version held every pair and every endpoint as dicts (about 1 KB each).

The index pairs contents, not records (index.py): the nodes of the graph are contents, and a
cluster is every record whose content is in one component, or a content held by two records or
more. Components by hooking and pointer jumping (as Shiloach and Vishkin's parallel algorithm):
each content points to a root, first the least among itself and its neighbours; each round, a
root moves to the least root seen across the pairs of the contents it roots, and every content
then takes its root's root. A chain of n pairs settles in about log2(n) rounds, not n, whatever
the order of its keys. A root is always a content of the same component, no larger than the
content itself, and roots only fall, so the rounds end with each component rooted at its
least content."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from commons_assets.dedupe.clusters import CLASS_RANK, DECISION_RANK


def _rank(column: str, ranks: dict[str, int]) -> str:
    cases = " ".join(f"WHEN '{value}' THEN {rank}" for value, rank in ranks.items())
    return f"CASE {column} {cases} ELSE 9 END"


# survivor_key, in SQL: the same order (DuckDB compares VARCHAR by code point, as Python).
SURVIVOR_ORDER = ", ".join(
    (
        "coalesce(withdrawn, false)",
        _rank("decision", DECISION_RANK),
        "coalesce(tier = 'consented', false)",
        _rank("licence_class", CLASS_RANK),
        "-coalesce(evidence_count, 0)",
        "-coalesce(image_pixels, 0)",
        "CASE WHEN date IS NULL OR date = '' THEN '9999' ELSE date END",
        "coalesce(source_partition, '')",
        "id",
    )
)

# The pairs of contents in both directions (one per ordered pair) with how they matched (every
# pair is of indexed contents: the index drops a content's pairs with its last copy), each
# paired content's first root, and the records of a cluster: those whose content is paired or
# held by another record too (one row per id).
SETUP = """
    CREATE OR REPLACE TEMP TABLE link AS
        SELECT id, other, max(match) AS match, arg_max(similarity, match) AS similarity FROM (
            SELECT first_content AS id, second_content AS other, match, similarity FROM edges
            UNION ALL
            SELECT second_content, first_content, match, similarity FROM edges
        )
        GROUP BY id, other;
    CREATE OR REPLACE TEMP TABLE component AS
        SELECT id, least(id, min(other)) AS root FROM link GROUP BY id;
    CREATE OR REPLACE TEMP TABLE member AS
        SELECT * EXCLUDE (file, band_keys) FROM records
        WHERE content IN (SELECT id FROM component) OR content IN (
            SELECT content FROM records GROUP BY content HAVING count(DISTINCT id) > 1
        )
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY file) = 1;
"""
# One round, as separate statements, each of which DuckDB spills on its own (a million-record
# chain ran within a 128 MiB limit). Hooking: each root takes the least root found across any
# pair of the contents it roots (so whole trees merge, not single contents); then every content
# takes its root's new root, then that one's root (pointer jumping, which halves the distance
# to the least key).
HOOK = """
    CREATE OR REPLACE TEMP TABLE hooked AS
    SELECT own.root AS id, min(neighbour.root) AS root
    FROM link
    JOIN component own ON own.id = link.id
    JOIN component neighbour ON neighbour.id = link.other
    GROUP BY own.root
"""
MOVE = """
    CREATE OR REPLACE TEMP TABLE moved AS
    SELECT record.id, least(record.root, coalesce(hooked.root, record.root)) AS root
    FROM component record LEFT JOIN hooked ON hooked.id = record.root
"""
JUMP = """
    CREATE OR REPLACE TEMP TABLE settled AS
    SELECT record.id, least(record.root, root_of_root.root) AS root
    FROM moved record JOIN moved root_of_root ON root_of_root.id = record.root
"""
CHANGED = (
    "SELECT count(*) FROM settled JOIN component USING (id) WHERE settled.root <> component.root"
)
# A record's root is its content's, or its content itself when the content is paired with none.
RANKED = f"""
    CREATE OR REPLACE TEMP TABLE ranked AS
    SELECT *,
        first_value(id) OVER (PARTITION BY root ORDER BY {SURVIVOR_ORDER}) AS survivor,
        bool_or(coalesce(withdrawn, false)) OVER (PARTITION BY root) AS cluster_withdrawn,
        count(*) OVER (PARTITION BY root) AS cluster_size
    FROM (
        SELECT member.*, coalesce(component.root, member.content) AS root
        FROM member LEFT JOIN component ON component.id = member.content
    )
"""
JACCARD = (
    "len(list_filter(range(1, len(m.signature) + 1), lambda i: m.signature[i] = s.signature[i]))"
    "::DOUBLE / len(m.signature)"
)
HAMMING = "bit_count(xor(('0x' || m.phash)::UBIGINT, ('0x' || s.phash)::UBIGINT))"
# What a member's relation to its survivor needs: the survivor's content and hashes (one row
# per cluster), and the pair between their contents, if any.
RELATION_INPUTS = """
    CREATE OR REPLACE TEMP TABLE survivor AS
        SELECT id, content, signature, phash FROM member
        WHERE id IN (SELECT survivor FROM ranked);
    CREATE OR REPLACE TEMP TABLE direct AS
        SELECT ranked.id, link.match, link.similarity
        FROM ranked
        JOIN survivor ON survivor.id = ranked.survivor
        JOIN link ON link.id = ranked.content AND link.other = survivor.content;
"""
# clusters._relation, in SQL: the same content, else directly, else through other members.
ROWS = f"""
    SELECT
        m.survivor AS cluster_id,
        m.id AS record_id,
        m.source_kind,
        m.source_partition,
        m.source_id,
        CASE WHEN m.cluster_withdrawn THEN 'withdrawn'
             WHEN m.id = m.survivor THEN 'survivor' ELSE 'duplicate' END AS role,
        CASE WHEN m.id = m.survivor THEN 'self'
             WHEN m.content = s.content THEN 'exact'
             WHEN direct.match IS NOT NULL THEN direct.match
             WHEN m.signature IS NOT NULL AND s.signature IS NOT NULL THEN 'near (transitive)'
             WHEN m.phash <> '' AND s.phash <> '' THEN 'image (transitive)'
             ELSE 'transitive' END AS match,
        CASE WHEN m.id = m.survivor THEN 1.0
             WHEN m.content = s.content THEN 1.0
             WHEN direct.match IS NOT NULL THEN direct.similarity
             WHEN m.signature IS NOT NULL AND s.signature IS NOT NULL THEN {JACCARD}
             WHEN m.phash <> '' AND s.phash <> '' THEN 1 - {HAMMING} / 64
             ELSE 0.0 END::DOUBLE AS similarity,
        CASE WHEN m.cluster_withdrawn THEN NULL ELSE m.survivor END AS survivor_id,
        m.cluster_size::BIGINT AS cluster_size
    FROM ranked m
    JOIN survivor s ON s.id = m.survivor
    LEFT JOIN direct ON direct.id = m.id
    ORDER BY cluster_id, role <> 'survivor', record_id
"""
TEMPORARY = ("link", "component", "member", "hooked", "moved", "ranked", "direct", "survivor")


@dataclass(frozen=True)
class ClusterTable:
    """The written cluster rows: where, how many, and how many rounds the components took."""

    path: Path
    rows: int
    rounds: int


def write_clusters(connection: duckdb.DuckDBPyConnection, out: Path) -> ClusterTable:
    """The cluster rows of the index open on `connection` (its `records` and `edges`), written
    to `out` as Parquet in `CLUSTER_SCHEMA`'s column order. Leaves temporary tables only."""
    connection.execute(SETUP).fetchall()
    rounds = 0
    while True:
        for statement in (HOOK, MOVE, JUMP):
            connection.execute(statement).fetchall()
        rounds += 1
        [(changed,)] = connection.sql(CHANGED).fetchall()
        connection.execute("DROP TABLE component").fetchall()
        connection.execute("ALTER TABLE settled RENAME TO component").fetchall()
        if not changed:
            break
    connection.execute(RANKED).fetchall()
    connection.execute(RELATION_INPUTS).fetchall()
    [(rows,)] = connection.execute(  # COPY answers with the rows it wrote
        f"COPY ({ROWS}) TO '{_quoted(out)}' (FORMAT parquet, COMPRESSION zstd)"
    ).fetchall()
    for table in TEMPORARY:
        connection.execute(f"DROP TABLE IF EXISTS {table}").fetchall()
    return ClusterTable(out, int(rows), rounds)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def cluster_report(path: Path, top: int = 10, members_shown: int = 20) -> dict[str, Any]:
    """What `dedup_clusters` reports of its table, read by DuckDB from the file (a few
    aggregate rows, whatever the table's size): clusters, duplicates, withdrawn copies,
    duplicates per match, clusters per size, and the largest clusters with their first members."""
    connection = duckdb.connect()
    try:
        table = f"read_parquet('{_quoted(path)}')"
        # One pass for the counts: clusters are the `self` rows, the rest by role and match.
        counts = connection.sql(
            f"SELECT role, match, count(*) FROM {table} GROUP BY role, match ORDER BY match"
        ).fetchall()
        sizes = connection.sql(
            f"SELECT cluster_size, count(*) AS clusters FROM {table} WHERE match = 'self' "
            "GROUP BY cluster_size ORDER BY cluster_size"
        ).pl()
        largest = connection.sql(
            f"SELECT cluster_id, cluster_size, source_kind, source_id FROM {table} "
            f"WHERE match = 'self' ORDER BY cluster_size DESC, cluster_id LIMIT {int(top)}"
        ).pl()
        rows = largest.to_dicts()
        for row in rows:  # the first members in the table's order: the survivor, then by id
            shown = connection.execute(
                f"SELECT source_id FROM {table} WHERE cluster_id = ? LIMIT {int(members_shown)}",
                [row["cluster_id"]],
            ).fetchall()
            row["members"] = ", ".join(str(source_id) for (source_id,) in shown)
            if row["cluster_size"] > members_shown:
                row["members"] += f", … ({row['cluster_size']} in all)"
    finally:
        connection.close()
    return {
        "clusters": sum(n for _, match, n in counts if match == "self"),
        "duplicates": sum(n for role, _, n in counts if role == "duplicate"),
        "withdrawn": sum(n for role, _, n in counts if role == "withdrawn"),
        "matches": {match: n for role, match, n in counts if role == "duplicate"},
        "sizes": sizes.to_dicts(),
        "largest": rows,
    }
