"""Deciding before extracting: pages that their site's files, their capture's headers or a
takedown by URL already exclude are not extracted, yet reach the audit with their evidence and
get the same decision as when every page is extracted."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl

from commons_assets.clean.documents import extracted
from commons_assets.lake import Lake
from commons_tests.builders import write_jsonl
from commons_tests.rights.test_rights_assets import build_warc, run_pages


def audited(root: Path, instance: dg.DagsterInstance, decide_first: bool) -> pl.DataFrame:
    build_warc(root)
    (root / "policy").mkdir(parents=True, exist_ok=True)
    (root / "policy" / "clean.toml").write_text(
        f"[extraction]\ndecide_first = {str(decide_first).lower()}\n"
    )
    write_jsonl(  # one takedown of a record by URL, one of a work (whose copies dedupe finds)
        root / "policy" / "takedowns" / "requests.jsonl",
        [
            {"match": "url", "value": "https://open.example/free", "scope": "record"},
            {"match": "url", "value": "https://open.example/nc", "scope": "work"},
        ],
    )
    lake = Lake(root=str(root))
    assert run_pages(lake, instance).success
    return pl.read_parquet(lake.table_path("rights_pages", "sites")).sort("source_id")


def test_excluded_pages_are_not_extracted_and_decided_as_if_they_were(tmp_path: Path) -> None:
    with dg.DagsterInstance.ephemeral() as first, dg.DagsterInstance.ephemeral() as second:
        everything = audited(tmp_path / "all", first, decide_first=False)
        decided = audited(tmp_path / "first", second, decide_first=True)
    skipped = {row["source_id"] for row in decided.to_dicts() if not extracted(row)}
    # robots.txt of blocked.example, TDM reservation (tdmrep.json), noai header, URL takedown:
    assert {
        "https://blocked.example/page",
        "https://open.example/reserved/a",
        "https://open.example/header",
        "https://open.example/free",
    } <= skipped
    assert "https://open.example/nc" not in skipped  # a takedown of the work needs its text
    for row in decided.filter(pl.col("source_id").is_in(list(skipped))).to_dicts():
        assert row["text"] is None and row["decision"] == "EXCLUDE", row["source_id"]
    # Every page audited either way, with the same decision, gate and evidence: the signals of
    # its capture, of its site's files and of its own markup (read without extracting).
    columns = ["source_id", "decision", "gate", "evidence", "consent", "licence_evidence"]
    assert decided.select(columns).equals(everything.select(columns))
    # Pages that were extracted are the same rows with the same text.
    kept = decided.filter(pl.col("source_id").is_in(list(skipped)).not_())
    same = everything.filter(pl.col("source_id").is_in(kept["source_id"].to_list()))
    assert kept.select("id", "text").equals(same.select("id", "text"))
