"""Duplicate clusters over admitted records: exact (same normalised-text or file hash), near
(MinHash LSH candidates whose estimated Jaccard reaches the threshold) and near-identical
images (perceptual-hash Hamming distance), each cluster keeping one survivor by a documented,
deterministic rule."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# FineWeb's MinHash setting finds candidates around Jaccard 0.72 (14 bands of 8 rows); pairs are
# confirmed at an estimated Jaccard of 0.8 ("near-duplicate" in the FineWeb and Gopher papers'
# sense) so that a pair just under the threshold stays apart [policy, configurable].
NEAR_DUPLICATE_JACCARD = 0.8
# Perceptual hashes (64-bit DCT pHash) of a resized or recompressed copy differ in a few bits;
# unrelated images differ in about half. 8 bits is a strict cut-off [policy, configurable].
IMAGE_HAMMING_DISTANCE = 8

DECISION_RANK = {"INCLUDE": 0, "INCLUDE_ATTRIB": 1}
CLASS_RANK = {"public-domain": 0, "permissive": 1, "share-alike": 2}


@dataclass(frozen=True)
class DedupeSettings:
    near_duplicate_jaccard: float = NEAR_DUPLICATE_JACCARD
    image_hamming_distance: int = IMAGE_HAMMING_DISTANCE


class UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, first: int, second: int) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def survivor_key(record: dict[str, Any]) -> tuple:
    """The survivor rule, most preferred first: the most permissive admissible licence (decision,
    then licence class; consented-tier records after licensed ones), then the richest provenance
    (more evidence entries; for images, then the larger original), then the earliest source
    (date, partition), then the id."""
    image = record.get("image") or {}
    pixels = record.get("image_pixels") or (image.get("width") or 0) * (image.get("height") or 0)
    return (
        bool(record.get("withdrawn")),
        DECISION_RANK.get(record.get("decision") or "", 9),
        record.get("tier") == "consented",
        CLASS_RANK.get(record.get("licence_class") or "", 9),
        -(record.get("evidence_count") or len(record.get("evidence") or [])),
        -pixels,
        record.get("date") or "9999",
        record.get("source_partition") or "",
        record["id"],
    )


def estimated_jaccard(
    first: Sequence[int] | np.ndarray, second: Sequence[int] | np.ndarray
) -> float:
    return float(np.mean(np.asarray(first, dtype=np.uint32) == np.asarray(second, dtype=np.uint32)))


PHASH_CHUNKS = 9  # 9 chunks of a 64-bit hash: a distance <= 8 leaves one chunk identical


def phash_keys(phash: str) -> list[int]:
    """LSH keys for Hamming distance: the 64-bit pHash cut into 9 chunks (pigeonhole: two hashes
    within 8 bits agree on at least one chunk). Each key carries its chunk number."""
    value = int(phash, 16)
    keys = []
    for chunk in range(PHASH_CHUNKS):
        width = 8 if chunk == PHASH_CHUNKS - 1 else 7
        bits = (value >> (7 * chunk)) & ((1 << width) - 1)
        keys.append((0xFF << 56) | (chunk << 48) | bits)
    return keys


def is_image(record: dict[str, Any]) -> bool:
    return record.get("source_kind") == "images"


def find_edges(
    new: list[dict[str, Any]],
    existing: Sequence[dict[str, Any]] = (),
    settings: DedupeSettings = DedupeSettings(),
    among_new: bool = True,
) -> list[tuple[str, str, str, float]]:
    """Confirmed duplicate pairs (id, id, match, similarity) that involve a `new` record: exact
    (same hash, same modality), near (shared LSH bucket, estimated Jaccard >= threshold) or
    image (shared pHash chunk, Hamming distance <= threshold). Pairs among `existing` records
    are not looked at: they were found when those records were new; nor pairs among `new`
    ones when `among_new` is false (a later part of the same lookup)."""
    pool = [*existing, *new]
    first_new = len(existing)
    candidates: dict[tuple[int, int], None] = {}
    index: dict[tuple, list[int]] = defaultdict(list)
    for position, record in enumerate(pool):
        if record.get("sha256"):
            index[("sha", is_image(record), record["sha256"])].append(position)
        for band, key in enumerate(record.get("band_keys") or []):
            index[("band", band, key)].append(position)
    for members in index.values():
        # Members are in pool order, the new ones last: pair each new one with those before it
        # (not every pair of the bucket, most of them existing pairs to skip).
        first_of_new = bisect.bisect_left(members, first_new)
        for j in range(first_of_new, len(members)):
            second = members[j]
            for first in members[: j if among_new else first_of_new]:
                candidates[(first, second)] = None
    edges = []
    near: list[tuple[int, int]] = []  # text pairs whose MinHash signatures decide
    for first, second in candidates:
        a, b = pool[first], pool[second]
        if is_image(a) != is_image(b):
            continue
        if a.get("sha256") and a.get("sha256") == b.get("sha256"):
            edges.append((a["id"], b["id"], "exact", 1.0))
        elif is_image(a):
            if a.get("phash") and b.get("phash"):
                distance = (int(a["phash"], 16) ^ int(b["phash"], 16)).bit_count()
                if distance <= settings.image_hamming_distance:
                    edges.append((a["id"], b["id"], "image", 1 - distance / 64))
        elif a.get("signature") is not None and b.get("signature") is not None:
            near.append((first, second))
    for (first, second), similarity in zip(near, pair_jaccards(pool, near), strict=True):
        if similarity >= settings.near_duplicate_jaccard:
            edges.append((pool[first]["id"], pool[second]["id"], "near", float(similarity)))
    return edges


PAIRS_AT_ONCE = 65_536  # pairs compared per numpy call: 65,536 x 2 x 112 x 4 bytes = 58 MiB


def pair_jaccards(pool: Sequence[dict[str, Any]], pairs: list[tuple[int, int]]) -> np.ndarray:
    """`estimated_jaccard` of each pair of pool positions, vectorised: each signature converted
    once (all of one length: the index holds one MinHash setting), the pairs compared a chunk at
    a time (a pair at a time cost 8 us: 10 s of the 50k-page bench's dedup_clusters, for
    350,000 candidate pairs)."""
    if not pairs:
        return np.zeros(0)
    positions = sorted({position for pair in pairs for position in pair})
    row_of = {position: row for row, position in enumerate(positions)}
    signatures = [np.asarray(pool[p]["signature"], dtype=np.uint32) for p in positions]
    matrix = np.stack(signatures)
    index = np.array([(row_of[a], row_of[b]) for a, b in pairs], dtype=np.int64)
    found = [
        (matrix[chunk[:, 0]] == matrix[chunk[:, 1]]).mean(axis=1)
        for chunk in (
            index[start : start + PAIRS_AT_ONCE] for start in range(0, len(index), PAIRS_AT_ONCE)
        )
    ]
    return np.concatenate(found)


def build_clusters(
    records: dict[str, dict[str, Any]], edges: Iterable[tuple[str, str, str, float]]
) -> list[dict[str, Any]]:
    """Connected components of the edges, one row per member, with the survivor rule applied.
    `records` needs every edge endpoint (with the survivor-rule fields). The clustering as
    defined, all in memory: `dedup_clusters` builds the same rows inside DuckDB within a
    memory limit (cluster_table.py, tested equal to this on random lakes)."""
    ids = sorted(records)
    position = {record_id: i for i, record_id in enumerate(ids)}
    union = UnionFind(len(ids))
    how: dict[tuple[str, str], tuple[str, float]] = {}
    for first, second, match, similarity in edges:
        if first in position and second in position:
            union.union(position[first], position[second])
            how[(first, second)] = how[(second, first)] = (match, similarity)
    groups: dict[int, list[str]] = defaultdict(list)
    for record_id in ids:
        groups[union.find(position[record_id])].append(record_id)
    rows: list[dict[str, Any]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        ordered = sorted(members, key=lambda i: survivor_key(records[i]))
        # A work-scoped takedown withdraws every copy of the work (the takedown's `scope`).
        withdrawn = any(records[i].get("withdrawn") for i in members)
        survivor = ordered[0]
        for member in ordered:
            record = records[member]
            match, similarity = _relation(member, survivor, how, records)
            role = "survivor" if member == survivor else "duplicate"
            rows.append(
                {
                    "cluster_id": survivor,
                    "record_id": member,
                    "source_kind": record.get("source_kind"),
                    "source_partition": record.get("source_partition"),
                    "source_id": record.get("source_id"),
                    "role": "withdrawn" if withdrawn else role,
                    "match": "self" if member == survivor else match,
                    "similarity": 1.0 if member == survivor else similarity,
                    "survivor_id": None if withdrawn else survivor,
                    "cluster_size": len(members),
                }
            )
    return sorted(
        rows, key=lambda row: (row["cluster_id"], row["role"] != "survivor", row["record_id"])
    )


def cluster_records(
    records: list[dict[str, Any]], settings: DedupeSettings = DedupeSettings()
) -> list[dict[str, Any]]:
    """All-at-once clustering of a list of records (each with `id`, `sha256`, and `signature`
    with `band_keys`, or `phash`)."""
    prepared = [
        {**r, "band_keys": r.get("band_keys") or (phash_keys(r["phash"]) if r.get("phash") else [])}
        for r in records
    ]
    edges = find_edges(prepared, [], settings)
    return build_clusters({r["id"]: r for r in prepared}, edges)


def _relation(
    member: str,
    survivor: str,
    how: dict[tuple[str, str], tuple[str, float]],
    records: dict[str, dict[str, Any]],
) -> tuple[str, float]:
    """How a member matched its survivor: directly, or through other members (transitive)."""
    if (member, survivor) in how:
        return how[(member, survivor)]
    first, second = records[member], records[survivor]
    if first.get("sha256") and first["sha256"] == second.get("sha256"):
        return "exact", 1.0
    if first.get("signature") is not None and second.get("signature") is not None:
        similarity = estimated_jaccard(first["signature"], second["signature"])
        return "near (transitive)", similarity
    if first.get("phash") and second.get("phash"):
        distance = (int(first["phash"], 16) ^ int(second["phash"], 16)).bit_count()
        return "image (transitive)", 1 - distance / 64
    return "transitive", 0.0
