"""MinHash signatures: datasketch-identical on the exact path, valid LeanMinHash and accurate
estimates on the fast path, and LSH band keys that meet exactly on equal bands."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from commons_assets.dedupe.minhash import (
    MinHashConfig,
    WordHashes,
    band_keys,
    batch_shingle_hashes,
    fmix32,
    lean_minhash,
    shingle_hashes,
    shingles,
    signatures,
    text_signatures,
    tokenize,
)

SENTENCE = (
    "river stone bridge water light field harbour tower lamp keeper storm salt lens ship coast "
    "village notebook library shelf visitor school spring child tide moon sun wind"
)
WORDS = tokenize(SENTENCE)


def document(seed: int, length: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + str(rng.randrange(50)) for _ in range(length))


def edited(text: str, edits: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = text.split()
    for _ in range(edits):
        words[rng.randrange(len(words))] = f"edit{rng.randrange(10**6)}"
    return " ".join(words)


def exact_jaccard(a: str, b: str, n: int = 5) -> float:
    first, second = set(shingles(a, n)), set(shingles(b, n))
    return len(first & second) / len(first | second)


def test_tokenize_treats_punctuation_as_separators() -> None:
    assert tokenize("Hello, World! It's 2026 — «quoted» text.") == [
        "hello",
        "world",
        "it",
        "s",
        "2026",
        "quoted",
        "text",
    ]


def test_fmix32_is_the_murmurhash3_finaliser() -> None:
    # MurmurHash3's fmix32 (fmix32(1) = 0x514e28b7 is the reference implementation's value);
    # datasketch 2.0's private `_fmix(h, 32)` gives the same values.
    inputs = np.array([0, 1, 2, 0xDEADBEEF, 0xFFFFFFFF, 123456789], dtype=np.uint32)
    expected = [0x0, 0x514E28B7, 0x30F4C306, 0x0DE5C6A9, 0x81F16F39, 0xBA60D89A]
    assert fmix32(inputs).tolist() == expected
    assert fmix32(inputs).dtype == np.uint32


def test_exact_path_equals_datasketch_update_batch() -> None:
    texts = [document(1), document(2, 4), "", "one two three four five six"]
    docs = [shingles(t) for t in texts]
    rows = signatures(docs, batch_shingles=64)  # several batches
    for doc, row in zip(docs, rows, strict=True):
        reference = MinHash(num_perm=112, seed=1)
        reference.update_batch(doc)
        assert np.array_equal(reference.hashvalues, row)


def test_fast_path_gives_lean_minhashes_with_accurate_estimates() -> None:
    base = document(7, 600)
    errors = []
    for edits in (5, 30, 80, 200):
        other = edited(base, edits, seed=edits)
        first, second = text_signatures([base, other])
        estimate = lean_minhash(first).jaccard(lean_minhash(second))
        errors.append(abs(estimate - exact_jaccard(base, other)))
    # 112 permutations: standard error about sqrt(J(1-J)/112) <= 0.048
    assert max(errors) < 0.15 and sum(errors) / len(errors) < 0.07


def test_fast_path_is_deterministic_and_independent_of_batching() -> None:
    texts = [document(seed) for seed in range(20)]
    one = text_signatures(texts, batch_shingles=100)
    other = text_signatures(list(reversed(texts)), batch_shingles=10_000, words=WordHashes())
    assert np.array_equal(one, other[::-1])


def test_empty_and_short_documents() -> None:
    rows = text_signatures(["", "!!!", "two words"])
    assert (rows[0] == np.iinfo(np.uint32).max).all() and (rows[1] == rows[0]).all()
    assert not (rows[2] == rows[0]).all()


@pytest.mark.parametrize("rows_per_band", [8, 4])
def test_band_keys_meet_exactly_on_equal_bands(rows_per_band: int) -> None:
    config = MinHashConfig(num_bands=112 // rows_per_band, rows_per_band=rows_per_band)
    rows = text_signatures([document(1), document(1), document(2)], config)
    rows[1, :rows_per_band] ^= 1  # first band differs, the rest equal
    keys = band_keys(rows, config)
    assert keys.shape == (3, config.num_bands)
    assert keys[0, 0] != keys[1, 0] and (keys[0, 1:] == keys[1, 1:]).all()
    assert not set(keys[0]) & set(keys[2])


@pytest.mark.parametrize("lengths", [(300, 5, 40), (300, 3, 1, 40), (7,)])
def test_batched_shingle_hashes_equal_one_document_at_a_time(lengths: tuple[int, ...]) -> None:
    words = WordHashes()
    documents = [tokenize(document(seed, length)) for seed, length in enumerate(lengths)]
    ids = [words.ids(tokens) for tokens in documents]
    hashes, starts = batch_shingle_hashes(ids, 5, words)
    ends = [*starts[1:], len(hashes)]
    for tokens, start, end in zip(documents, starts, ends, strict=True):
        alone = shingle_hashes(tokens, 5, words)
        assert len(alone) == max(len(tokens) - 4, 1)  # no n-gram spans two documents
        assert np.array_equal(hashes[start:end], alone)
