"""Duplicate clusters over admitted records: exact (same normalised-text or file hash), near
(MinHash LSH candidates whose estimated Jaccard reaches the threshold) and near-identical
images (perceptual-hash Hamming distance), each cluster keeping one survivor by a documented,
deterministic rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
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
    return (
        bool(record.get("withdrawn")),
        DECISION_RANK.get(record.get("decision") or "", 9),
        record.get("tier") == "consented",
        CLASS_RANK.get(record.get("licence_class") or "", 9),
        -len(record.get("evidence") or []),
        -((image.get("width") or 0) * (image.get("height") or 0)),
        record.get("date") or "9999",
        record.get("source_partition") or "",
        record["id"],
    )


def estimated_jaccard(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.mean(first == second))


def cluster_records(
    records: list[dict[str, Any]], settings: DedupeSettings = DedupeSettings()
) -> list[dict[str, Any]]:
    """One row per record in a cluster of two or more: cluster id, role, how it matched, its
    similarity to the survivor. Records must carry `id`, `sha256`, and either `signature` and
    `band_keys` (text) or `phash` (images)."""
    union = UnionFind(len(records))
    how: dict[tuple[int, int], tuple[str, float]] = {}

    by_hash: dict[tuple[bool, str], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if record.get("sha256"):
            by_hash[(record.get("source_kind") == "images", record["sha256"])].append(index)
    for members in by_hash.values():
        for other in members[1:]:
            union.union(members[0], other)
            how[(members[0], other)] = ("exact", 1.0)

    signatures = {
        i: np.asarray(r["signature"], dtype=np.uint32)
        for i, r in enumerate(records)
        if r.get("signature") is not None
    }
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        for band, key in enumerate(record.get("band_keys") or []):
            buckets[(band, key)].append(index)
    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        for position, first in enumerate(members):
            for second in members[position + 1 :]:
                pair = (first, second)
                if pair in checked:
                    continue
                checked.add(pair)
                similarity = estimated_jaccard(signatures[first], signatures[second])
                if similarity >= settings.near_duplicate_jaccard:
                    union.union(first, second)
                    how.setdefault(pair, ("near", similarity))

    images = [(i, int(r["phash"], 16)) for i, r in enumerate(records) if r.get("phash")]
    for position, (first, first_hash) in enumerate(images):
        for second, second_hash in images[position + 1 :]:
            distance = (first_hash ^ second_hash).bit_count()
            if distance <= settings.image_hamming_distance:
                union.union(first, second)
                how.setdefault((first, second), ("image", 1 - distance / 64))

    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(records)):
        groups[union.find(index)].append(index)
    rows: list[dict[str, Any]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        ordered = sorted(members, key=lambda i: survivor_key(records[i]))
        # A work-scoped takedown withdraws every copy of the work (the takedown's `scope`).
        withdrawn = any(records[i].get("withdrawn") for i in members)
        survivor = ordered[0]
        cluster_id = records[survivor]["id"]
        for index in ordered:
            match, similarity = _relation(index, survivor, how, records, signatures)
            role = "survivor" if index == survivor else "duplicate"
            rows.append(
                {
                    "cluster_id": cluster_id,
                    "record_id": records[index]["id"],
                    "source_kind": records[index].get("source_kind"),
                    "source_partition": records[index].get("source_partition"),
                    "source_id": records[index].get("source_id"),
                    "role": "withdrawn" if withdrawn else role,
                    "match": "self" if index == survivor else match,
                    "similarity": 1.0 if index == survivor else similarity,
                    "survivor_id": None if withdrawn else cluster_id,
                    "cluster_size": len(members),
                }
            )
    return sorted(
        rows, key=lambda row: (row["cluster_id"], row["role"] != "survivor", row["record_id"])
    )


def _relation(
    index: int,
    survivor: int,
    how: dict[tuple[int, int], tuple[str, float]],
    records: list[dict[str, Any]],
    signatures: dict[int, np.ndarray],
) -> tuple[str, float]:
    for pair in ((index, survivor), (survivor, index)):
        if pair in how:
            return how[pair]
    if records[index].get("sha256") and records[index]["sha256"] == records[survivor].get("sha256"):
        return "exact", 1.0
    if index in signatures and survivor in signatures:
        return "near (transitive)", estimated_jaccard(signatures[index], signatures[survivor])
    if records[index].get("phash") and records[survivor].get("phash"):
        distance = (
            int(records[index]["phash"], 16) ^ int(records[survivor]["phash"], 16)
        ).bit_count()
        return "image (transitive)", 1 - distance / 64
    return "transitive", 0.0


def not_published(rows: Iterable[dict[str, Any]]) -> set[str]:
    """Ids of records a release must leave out: duplicates and withdrawn copies."""
    return {row["record_id"] for row in rows if row["role"] in ("duplicate", "withdrawn")}
