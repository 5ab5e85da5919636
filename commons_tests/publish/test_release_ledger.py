"""The release's bookkeeping of every record (publish/ledger.py) in memory bounded by a setting
whatever the lake's size (issue #17): each audit row's decision, each cluster row, each
published row's narrow columns and the previous release's ids live in a DuckDB database on the
scratch disk within `[limits] ledger_memory_bytes`. Checked with lakes whose ledger is larger
than the bound: what the release says of them (counts, changes, the fingerprint) must be what
Polars computes from the same tables in memory, and the step's peak memory must not grow with
the lake."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import polars as pl

from commons_assets.batches import MIB

EVIDENCE = pl.List(pl.Struct(dict.fromkeys(("channel", "raw", "location", "verdict"), pl.String)))
TEXTS = "rights_texts"


def narrow_audit(rows: int, seed: int) -> pl.DataFrame:
    """An audit partition of `rows` short records: ids in no order, a fifth not admitted, a
    tenth asking for attribution, three tiers; most of a row is its bookkeeping, not its text."""
    pick = random.Random(seed)
    ids = [f"{pick.getrandbits(128):032x}" for _ in range(rows)]
    number = pl.int_range(0, rows, eager=True)
    decision = (
        pl.when(number % 5 == 0)
        .then(pl.lit("EXCLUDE"))
        .when(number % 10 == 1)
        .then(pl.lit("INCLUDE_ATTRIB"))
        .otherwise(pl.lit("INCLUDE"))
    )
    tier = (
        pl.when(number % 7 == 3)
        .then(pl.lit("consented"))
        .when(number % 11 == 4)
        .then(pl.lit("gated"))
        .otherwise(pl.lit("open"))
    )
    licence = {"channel": "licence", "raw": "CC-BY-4.0", "location": "record", "verdict": "open"}
    return pl.DataFrame({"id": ids, "n": number}).select(
        "id",
        source_kind=pl.lit("texts"),
        source_partition=pl.lit(f"part-{seed}"),
        source_id=pl.format("https://example.org/{}/{}", pl.lit(seed), "n"),
        source_uri=pl.format("https://example.org/{}/{}", pl.lit(seed), "n"),
        title=pl.format("Text {} of the collection", "n"),
        text=pl.lit("a short text of seven words here"),
        language=pl.lit("en"),
        licence=pl.lit("CC-BY-4.0"),
        licence_raw=pl.lit("CC-BY-4.0"),
        licence_class=pl.lit("open"),
        licence_flags=pl.lit([], pl.List(pl.String)),
        attribution=pl.format("Author number {}", "n"),
        evidence=pl.lit([licence], EVIDENCE),
        decision=decision,
        gate=pl.lit("licence"),
        decision_reason=pl.lit("stated licence"),
        tier=tier,
        policy=pl.lit("p1"),
        sha256=pl.col("id") + pl.col("id"),  # 64 hex digits, as a SHA-256
        provenance=pl.lit({"steps": "read,clean,audit"}),
    )


def write_lake(folder: Path, partitions: int, rows: int) -> None:
    """Audit partitions under folder/audits, and a cluster table naming every 50th admitted
    row of each partition a duplicate of the row before it."""
    (folder / "audits").mkdir(parents=True)
    duplicates = []
    for seed in range(partitions):
        table = narrow_audit(rows, seed)
        table.write_parquet(folder / "audits" / f"part-{seed:03d}.parquet", row_group_size=5000)
        ids = table["id"]
        duplicates.append(
            pl.DataFrame({"record_id": ids[1::50], "survivor_id": ids[0::50][: len(ids[1::50])]})
        )
    pl.concat(duplicates).with_columns(
        role=pl.lit("duplicate"), match=pl.lit("exact")
    ).write_parquet(folder / "clusters.parquet")


# Two releases of the lake under argv[1] (the first without its last partition, so the second
# lists changes) with the ledger held to argv[2] bytes; prints what they said and the peak RSS.
RELEASES = """
import datetime as dt, json, resource, sys
from pathlib import Path
from upath import UPath
from commons_assets.batches import MIB, BatchSize, StoredTable
from commons_assets.defs.publish.assets import add_audits, release_counts
from commons_assets.kinds import KINDS, by_name
from commons_assets.publish import gate
from commons_assets.publish.ledger import release_ledger
from commons_assets.publish.release import promote, stage_release
from commons_assets.publish.rows import sorted_rows
folder, memory = Path(sys.argv[1]), int(sys.argv[2])
size = BatchSize(rows=5000)
parts = sorted(folder.glob("audits/*.parquet"))
said = {}
for name, chosen in (("first", parts[:-1]), ("second", parts)):
    tables = {p.stem: StoredTable(UPath(p)) for p in chosen}
    with release_ledger(folder / "scratch", memory) as ledger:
        add_audits(ledger, {"rights_texts": tables}, KINDS, size)
        ledger.add_clusters(StoredTable(UPath(folder / "clusters.parquet")), size)
        with sorted_rows(
            list(tables.values()), ledger.left_out, [], folder / "scratch", 16 * MIB, size
        ) as rows:
            ledger.summarise(rows.files)
            dedupe = {"clusters": ledger.cluster_count(), "removed": ledger.left_out_count()}
            version, staged = stage_release(
                UPath(folder / "releases"), rows, ledger, {"fingerprint": "p1"}, dedupe, [],
                dt.date(2026, 12, 5), {}, [], size,
            )
            counts = release_counts(ledger, by_name(KINDS))
    said[name] = {
        "problems": gate.manifest_problems(staged),
        "rows": counts["dagster/row_count"],
        "open": counts["rows_open"],
        "tokens": counts["tokens_approx"],
        "removed": dedupe["removed"],
        "card": (staged / "README.md").read_text(),
        "changes": (staged / "CHANGES.md").read_text(),
        "attributions": (staged / "ATTRIBUTION.md").read_text().count("\\n- "),
    }
    promote(UPath(folder / "releases"), staged)
said["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(said))
"""


def releases_in_a_process(folder: Path, memory_bytes: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", RELEASES, str(folder), str(memory_bytes)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def expected_of(folder: Path) -> dict[str, int]:
    """What the second release must say, computed by Polars from the tables in memory."""
    audits = pl.read_parquet(folder / "audits" / "*.parquet")
    gone = pl.read_parquet(folder / "clusters.parquet")["record_id"]
    published = audits.filter(
        pl.col("decision").is_in(["INCLUDE", "INCLUDE_ATTRIB"]) & ~pl.col("id").is_in(gone)
    )
    last = audits["source_partition"].max()
    open_rows = published.filter(pl.col("tier") == "open")
    return {
        "rows": published.height,
        "open": open_rows.height,
        "tokens": published.height * 7,
        "removed": gone.n_unique(),
        "added": open_rows.filter(pl.col("source_partition") == last).height,
        "attributions": open_rows.filter(pl.col("decision") == "INCLUDE_ATTRIB").height,
    }


def test_the_ledger_says_what_polars_says_of_a_lake_beyond_its_memory(tmp_path: Path) -> None:
    """120,000 records whose ledger takes several times the 32 MiB it is given (DuckDB
    spills): two releases, each verified by the gate's manifest check (the fingerprint the
    ledger gave, recomputed from the shards), counting what Polars counts in memory."""
    write_lake(tmp_path, partitions=4, rows=30_000)
    said = releases_in_a_process(tmp_path, 32 * MIB)
    expected = expected_of(tmp_path)
    second = said["second"]
    assert said["first"]["problems"] == [] and second["problems"] == []
    for key in ("rows", "open", "tokens", "removed", "attributions"):
        assert second[key] == expected[key], key
    assert f"- added {expected['added']}, removed 0 (CHANGES.md)" in second["card"]
    assert f"- added: {expected['added']}" in second["changes"]
    assert "CHANGES.parquet" in second["changes"]  # more ids than listed in the file
    assert f"- texts: {expected['open']} records" in second["card"]


def test_the_release_bookkeeping_does_not_grow_with_the_lake(tmp_path: Path) -> None:
    """Peak RSS of two releases of 60,000 records, then of 600,000, the ledger held to 32
    MiB: the same but for noise (measured 0 to +5 MiB). The ledger without its memory limit
    (DuckDB's default, 80 % of the machine) grew by 78 MiB; the release before the ledger,
    its bookkeeping in Polars columns, by 450 MiB (about 870 bytes a record)."""
    small, large = tmp_path / "small", tmp_path / "large"
    write_lake(small, partitions=4, rows=15_000)
    write_lake(large, partitions=4, rows=150_000)
    small_said = releases_in_a_process(small, 32 * MIB)
    large_said = releases_in_a_process(large, 32 * MIB)
    assert large_said["second"]["rows"] > 9 * small_said["second"]["rows"]
    growth = large_said["peak"] - small_said["peak"]
    assert growth < 40 * MIB, f"peak RSS grew by {growth / MIB:.0f} MiB with 10x the records"
