"""Clusters: exact and near duplicates within and across partitions and source kinds, a pair
just under the threshold kept apart, images by perceptual hash, and a deterministic,
licence-aware survivor."""

from __future__ import annotations

import random
from typing import Any

from commons_assets.dedupe.clusters import DedupeSettings, cluster_records, survivor_key
from commons_assets.dedupe.minhash import band_keys, shingles, text_signatures

VOCABULARY = [f"w{i}" for i in range(5000)]


def text(seed: int, length: int = 400) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCABULARY) for _ in range(length))


def edit(body: str, fraction: float, seed: int = 1) -> str:
    rng = random.Random(seed)
    words = body.split()
    for i in rng.sample(range(len(words)), int(len(words) * fraction)):
        words[i] = f"edited{i}"
    return " ".join(words)


def jaccard(a: str, b: str) -> float:
    first, second = set(shingles(a)), set(shingles(b))
    return len(first & second) / len(first | second)


def records(*items: tuple[str, str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    texts = [body for _, _, body, _ in items]
    signatures = text_signatures(texts)
    keys = band_keys(signatures)
    out = []
    for (record_id, partition, body, extra), signature, key in zip(
        items, signatures, keys, strict=True
    ):
        out.append(
            {
                "id": record_id,
                "source_kind": extra.pop("kind", "texts"),
                "source_partition": partition,
                "source_id": record_id,
                "sha256": str(hash(body)),
                "decision": "INCLUDE_ATTRIB",
                "tier": "open",
                "licence_class": "permissive",
                "evidence": [],
                "date": None,
                "signature": signature.tolist(),
                "band_keys": key.tolist(),
                **extra,
            }
        )
    return out


def clusters_of(rows: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["cluster_id"], set()).add(row["record_id"])
    return found


def test_exact_and_near_duplicates_across_partitions_and_kinds() -> None:
    base = text(1)
    near = edit(base, 0.01)
    assert jaccard(base, near) > 0.9
    rows = cluster_records(
        records(
            ("a", "p1", base, {}),
            ("b", "p1", base, {}),  # exact, same partition
            ("c", "p2", near, {"kind": "archives"}),  # near, other partition and source kind
            ("d", "p2", text(2), {}),  # unrelated
        )
    )
    assert list(clusters_of(rows).values()) == [{"a", "b", "c"}]
    matches = {row["record_id"]: row["match"] for row in rows}
    assert matches["a"] == "self" and matches["b"] == "exact" and matches["c"] == "near"


def test_a_pair_just_under_the_threshold_is_kept_apart() -> None:
    base = text(3, 1000)
    under = edit(base, 0.03, seed=5)  # true 5-gram Jaccard a little under 0.8
    assert 0.7 < jaccard(base, under) < 0.8
    settings = DedupeSettings(near_duplicate_jaccard=0.8)
    assert cluster_records(records(("a", "p", base, {}), ("b", "p", under, {})), settings) == []


def test_images_cluster_by_perceptual_hash_distance() -> None:
    image = {"signature": None, "band_keys": None, "kind": "images"}
    rows = cluster_records(
        records(
            ("full", "p", "x", {**image, "phash": "b15fe6465121175e", "sha256": "1"}),
            ("thumb", "p", "y", {**image, "phash": "b15fe6465121175f", "sha256": "2"}),  # 1 bit
            ("other", "p", "z", {**image, "phash": "4ea019b9edee8a81", "sha256": "3"}),
        )
    )
    assert list(clusters_of(rows).values()) == [{"full", "thumb"}]


def test_survivor_prefers_permissive_licence_then_provenance_then_earliest_then_id() -> None:
    base = text(4)
    attrib = {"decision": "INCLUDE_ATTRIB", "licence_class": "share-alike"}
    items = records(
        ("z-public", "p2", base, {"decision": "INCLUDE", "licence_class": "public-domain"}),
        ("a-attrib", "p1", base, dict(attrib)),
        ("b-rich", "p1", base, {**attrib, "evidence": [1, 2, 3]}),
    )
    rows = cluster_records(items)
    survivors = {row["record_id"] for row in rows if row["role"] == "survivor"}
    assert survivors == {"z-public"}
    # Without the public-domain copy, richer provenance wins; then earlier partition; then id.
    assert sorted(items[1:], key=survivor_key)[0]["id"] == "b-rich"
    early = {**items[1], "id": "y", "source_partition": "p0"}
    late = {**items[1], "id": "x", "source_partition": "p9"}
    assert sorted([late, early], key=survivor_key)[0]["id"] == "y"
    assert sorted([{**late, "source_partition": "p0"}, early], key=survivor_key)[0]["id"] == "x"


def test_clustering_is_deterministic_whatever_the_input_order() -> None:
    base = text(6)
    items = records(("a", "p", base, {}), ("b", "q", edit(base, 0.01), {}), ("c", "r", base, {}))
    assert cluster_records(items) == cluster_records(list(reversed(items)))


def test_pair_jaccards_match_the_pair_by_pair_estimate(monkeypatch: Any) -> None:
    """The vectorised confirmation gives each pair exactly the estimate `estimated_jaccard`
    gives it, across chunks."""
    import commons_assets.dedupe.clusters as clusters

    pick = random.Random(7)
    pool = [{"signature": [pick.randrange(4) for _ in range(112)]} for _ in range(40)]
    pairs = [(a, b) for a in range(40) for b in range(a + 1, 40) if pick.random() < 0.3]
    expected = [
        clusters.estimated_jaccard(pool[a]["signature"], pool[b]["signature"]) for a, b in pairs
    ]
    monkeypatch.setattr(clusters, "PAIRS_AT_ONCE", 17)  # several chunks
    assert list(clusters.pair_jaccards(pool, pairs)) == expected
    assert len(clusters.pair_jaccards(pool, [])) == 0
