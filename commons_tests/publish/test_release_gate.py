"""Write-audit-publish: a release is staged, verified from each row's own evidence and only then
promoted. Each test breaks a stage before the release (a tampered audit table, an audit that
admits everything, a tampered staged file) and shows that LATEST does not move."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from upath import UPath

from commons_assets import cli
from commons_assets.batches import MIB, BatchSize, StoredTable
from commons_assets.defs.clean.assets import clean_texts
from commons_assets.defs.dedupe.assets import dedup_clusters, signatures_texts
from commons_assets.defs.governance.assets import AUDIT_INPUTS
from commons_assets.defs.publish.assets import (
    MANIFEST_CHECK,
    ROWS_CHECK,
    UPSTREAM_CHECK,
    add_audits,
    page_site_files,
    release,
)
from commons_assets.defs.rights.assets import rights_texts
from commons_assets.defs.rights.checks import ADMISSIBLE_CHECK, AUDIT_CHECKS, RIGHTS_CHECKS
from commons_assets.defs.sources.assets import corpus_texts
from commons_assets.kinds import KINDS
from commons_assets.lake import Lake
from commons_assets.publish import gate
from commons_assets.publish.ledger import release_ledger
from commons_assets.publish.release import STAGING, file_sha256
from commons_assets.rights.audit import Takedown
from commons_assets.steward import resources_for
from commons_tests.runs import materialize

FORBIDDEN = ("GPL-2.0-only", "CC-BY-NC", "All rights reserved")


def releases(lake: Lake) -> Path:
    return lake.root_path / "releases"


def latest(lake: Lake) -> str:
    return (releases(lake) / "LATEST").read_text().strip()


def published_ids(lake: Lake) -> set[str]:
    folder = releases(lake) / latest(lake)
    return {
        source_id
        for shard in folder.rglob("*.parquet")
        for source_id in pl.read_parquet(shard, columns=["source_id"])["source_id"]
    }


def test_a_tampered_audit_table_does_not_reach_a_release(
    built_sample: tuple[Lake, dg.DagsterInstance],
) -> None:
    """The issue's scenario: decision = INCLUDE written over the EXCLUDE rows of an audit table,
    then the signatures, the clusters and the release rebuilt with Dagster (no `commons build`)."""
    lake, instance = built_sample
    before, versions_before = latest(lake), sorted(p.name for p in releases(lake).iterdir())
    path = lake.table_path("rights_texts", "community-writing")
    audit = pl.read_parquet(path)
    excluded = audit.filter(pl.col("decision") == "EXCLUDE")
    assert excluded.height >= 3  # the sample's GPL, NC and all-rights-reserved records
    audit.with_columns(
        decision=pl.when(pl.col("decision") == "EXCLUDE")
        .then(pl.lit("INCLUDE"))
        .otherwise(pl.col("decision"))
    ).write_parquet(path)

    assert materialize(
        [signatures_texts],
        partition_key="community-writing",
        instance=instance,
        resources=resources_for(lake),
    ).success
    result = materialize(
        [dedup_clusters, release],
        instance=instance,
        resources=resources_for(lake),
        raise_on_error=False,
    )

    assert not result.success
    assert latest(lake) == before  # LATEST untouched
    assert sorted(p.name for p in releases(lake).iterdir() if p.name != STAGING) == [
        v for v in versions_before if v != STAGING
    ]
    assert not published_ids(lake) & set(excluded["source_id"])
    (rows_check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == ROWS_CHECK]
    assert not rows_check.passed and rows_check.severity == dg.AssetCheckSeverity.ERROR
    named = {r.data["source_id"] for r in rows_check.metadata["violating_rows"].value.records}
    assert named == set(excluded["source_id"])
    reasons = " ".join(
        r.data["problems"] for r in rows_check.metadata["violating_rows"].value.records
    )
    assert "classifies as EXCLUDE" in reasons
    # The refused candidate stays staged for inspection; it is not a release.
    (candidate,) = (releases(lake) / STAGING).iterdir()
    assert candidate.name not in versions_before


def test_an_audit_that_admits_everything_makes_no_release_and_build_fails(
    data_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from commons_assets.defs.rights import assets as rights_assets

    real_decide = rights_assets.decide

    def admit_everything(*args, **kwargs):  # a bug in the decision code
        result = real_decide(*args, **kwargs)
        result.decision = "INCLUDE"
        return result

    monkeypatch.setattr(rights_assets, "decide", admit_everything)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["build", "--data", str(data_root)]) == 1
    out = capsys.readouterr().out
    # The audit's own check names the rows, and the release refuses while it fails.
    assert "at://did:plc:testbob/app.bsky.feed.post/1: no licence statement" in out
    assert f"FAIL  release{' ' * 49}blocking check failed: {UPSTREAM_CHECK}" in out
    assert f"rights_posts[2026-11-20]: {ADMISSIBLE_CHECK} failed" in out
    # What lies downstream of the failed partition is skipped, and says why.
    assert "SKIP  signatures_posts[2026-11-20]" in out
    assert "upstream rights_posts[2026-11-20] did not pass" in out
    assert not (data_root / "releases").exists()  # nothing staged, nothing published


def test_a_takedown_filed_after_staging_refuses_the_candidate(
    built_sample: tuple[Lake, dg.DagsterInstance],
) -> None:
    lake, _ = built_sample
    folder = releases(lake) / latest(lake)
    rows = gate.row_violations(folder, [])
    assert rows.checked > 0 and rows.violating == 0 and rows.shown == []
    some_id = sorted(published_ids(lake))[0]
    violations = gate.row_violations(folder, [Takedown("id", some_id, source="t.jsonl")]).shown
    assert [v["source_id"] for v in violations] == [some_id]
    assert "takedown id=" in violations[0]["problems"]


def test_verification_reads_the_evidence_not_the_recorded_class(
    built_sample: tuple[Lake, dg.DagsterInstance], tmp_path: Path
) -> None:
    """A row whose licence class and decision were both rewritten is still refused: the licence
    statement is classified again."""
    lake, _ = built_sample
    copy = tmp_path / "copy"
    shutil.copytree(releases(lake) / latest(lake), copy)
    shard = sorted((copy / "text").glob("*.parquet"))[0]
    frame = pl.read_parquet(shard)
    forged = frame.with_columns(
        licence_raw=pl.lit("CC-BY-NC-4.0"),
        licence_evidence=pl.lit(
            [{"channel": "licence", "raw": "CC-BY-NC-4.0", "verdict": "INCLUDE", "location": ""}]
        ),
        licence_class=pl.lit("permissive"),
        decision=pl.lit("INCLUDE"),
    )
    forged.write_parquet(shard)
    violations = gate.row_violations(copy, []).shown
    assert len(violations) == frame.height
    assert all("non-commercial" in v["problems"] for v in violations)
    # Counted whatever their number, and only as many kept as asked for.
    kept = gate.row_violations(copy, [], keep=2)
    assert kept.violating == frame.height > 2 and kept.shown == violations[:2]
    assert any("bytes differ" in p for p in gate.manifest_problems(copy))


def test_a_swapped_image_is_refused_by_the_gate(
    built_sample: tuple[Lake, dg.DagsterInstance], tmp_path: Path
) -> None:
    """The shipped bytes of an image replaced in a staged shard: the row's sha256 no longer
    matches them, and the gate names the row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    lake, _ = built_sample
    copy = tmp_path / "copy"
    shutil.copytree(releases(lake) / latest(lake), copy)
    shard = sorted((copy / "image_text").glob("*.parquet"))[0]
    table = pq.read_table(shard)
    data = table.column("image_data").to_pylist()
    swapped = [None if d is None else {**d, "bytes": d["bytes"] + b"tampered"} for d in data]
    assert any(swapped)
    index = table.schema.get_field_index("image_data")
    column = pa.array(swapped, type=table.schema.field(index).type)
    pq.write_table(table.set_column(index, "image_data", column), shard)
    violations = gate.row_violations(copy, []).shown
    assert len(violations) == sum(d is not None for d in swapped)
    assert all("image bytes do not match" in v["problems"] for v in violations)


def test_the_manifest_check_finds_added_removed_and_changed_files(
    built_sample: tuple[Lake, dg.DagsterInstance], tmp_path: Path
) -> None:
    lake, _ = built_sample
    copy = tmp_path / "copy"
    shutil.copytree(releases(lake) / latest(lake), copy)
    assert gate.manifest_problems(copy) == []
    (copy / "extra.txt").write_text("not listed")
    (copy / "CHANGES.md").unlink()
    with (copy / "README.md").open("a") as card:
        card.write("edited\n")
    found = gate.manifest_problems(copy)
    assert "extra.txt: in the folder, not in the manifest" in found
    assert "CHANGES.md: in the manifest, missing" in found
    assert "README.md: bytes differ from the manifest's sha256" in found
    manifest = json.loads((copy / "MANIFEST.json").read_text())
    manifest["content_fingerprint"] = "0" * 64
    (copy / "MANIFEST.json").write_text(json.dumps(manifest))
    assert any("content_fingerprint" in p for p in gate.manifest_problems(copy))


def test_the_fingerprint_is_read_from_shards_in_id_order(
    built_sample: tuple[Lake, dg.DagsterInstance], tmp_path: Path
) -> None:
    """The gate recomputes the content fingerprint a batch at a time from the shards as they
    lie (it holds no release's ids): rows out of id order are named, whatever the hashes."""
    lake, _ = built_sample
    copy = tmp_path / "copy"
    shutil.copytree(releases(lake) / latest(lake), copy)
    shard = copy / "text" / "part-00000.parquet"
    pl.read_parquet(shard).reverse().write_parquet(shard)
    manifest = json.loads((copy / "MANIFEST.json").read_text())
    for entry in manifest["files"]:  # the file's new bytes listed: only the order is wrong
        if entry["path"] == "text/part-00000.parquet":
            entry["bytes"], entry["sha256"] = shard.stat().st_size, file_sha256(UPath(shard))
    (copy / "MANIFEST.json").write_text(json.dumps(manifest))
    found = gate.manifest_problems(copy)
    assert "open/text: rows are not in id order" in found
    assert not any("sha256" in problem for problem in found)


def test_a_passing_release_reports_both_checks(
    built_sample: tuple[Lake, dg.DagsterInstance],
) -> None:
    lake, instance = built_sample
    for check in (ROWS_CHECK, MANIFEST_CHECK):
        evaluation = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(release.key, check)]
        )[dg.AssetCheckKey(release.key, check)]
        assert evaluation.status.value == "SUCCEEDED"
    assert not (releases(lake) / STAGING).exists()


def test_an_audit_materialized_without_its_check_stops_the_release(
    built_sample: tuple[Lake, dg.DagsterInstance],
) -> None:
    lake, instance = built_sample
    before = latest(lake)
    run = {"instance": instance, "resources": resources_for(lake), "raise_on_error": False}
    assert materialize(
        [*AUDIT_INPUTS, rights_texts], partition_key="community-writing", **run
    ).success
    refused = materialize([release], **run)
    assert not refused.success and latest(lake) == before
    (upstream,) = [
        e for e in refused.get_asset_check_evaluations() if e.check_name == UPSTREAM_CHECK
    ]
    (row,) = upstream.metadata["partitions"].value.records
    assert row.data == {
        "partition": "rights_texts[community-writing]",
        "why": f"{ADMISSIBLE_CHECK} did not run on the current materialization",
    }
    checks = [c for c in RIGHTS_CHECKS if rights_texts.key in {k.asset_key for k in c.check_keys}]
    assert materialize(
        [*AUDIT_INPUTS, rights_texts, *checks], partition_key="community-writing", **run
    ).success
    assert materialize([release], **run).success and latest(lake) == before  # unchanged


def test_a_collection_gated_after_its_source_was_read_is_not_released_open(
    built_sample: tuple[Lake, dg.DagsterInstance],
) -> None:
    """The audit applies the terms its source asset read; the release compares them with the
    file: a collection gated since refuses the release until its source and audit run again."""
    lake, instance = built_sample
    before = latest(lake)
    partition = "community-writing"
    terms = lake.sources / "texts" / partition / "collection.json"
    terms.write_text(json.dumps({**json.loads(terms.read_text()), "gated": True}))
    resources = resources_for(lake)

    refused = materialize([release], instance=instance, resources=resources, raise_on_error=False)
    assert not refused.success and latest(lake) == before
    (upstream,) = [
        e for e in refused.get_asset_check_evaluations() if e.check_name == UPSTREAM_CHECK
    ]
    named = {
        r.data["partition"]: r.data["why"] for r in upstream.metadata["partitions"].value.records
    }
    assert "collection.json changed since the audit" in named[f"rights_texts[{partition}]"]

    # Audited again without reading the source again: still the old terms, still refused.
    chain = [clean_texts, rights_texts, *AUDIT_CHECKS[rights_texts.key], signatures_texts]
    assert materialize(
        chain, partition_key=partition, instance=instance, resources=resources
    ).success
    assert not materialize(
        [dedup_clusters, release], instance=instance, resources=resources, raise_on_error=False
    ).success
    assert (lake.root_path / "releases" / before).exists() and latest(lake) == before

    # Read again: the gated terms reach the audit, and the release puts the collection apart.
    assert materialize(
        [corpus_texts, *chain], partition_key=partition, instance=instance, resources=resources
    ).success
    assert materialize([dedup_clusters, release], instance=instance, resources=resources).success
    folder = releases(lake) / latest(lake)
    gated = pl.read_parquet(folder / "gated" / "text" / "*.parquet")
    assert set(gated["source_partition"]) == {partition}
    opened = pl.concat([pl.read_parquet(p) for p in (folder / "text").glob("*.parquet")])
    assert partition not in set(opened["source_partition"])


def test_a_page_whose_evidence_names_another_capture_is_refused(
    built_sample: tuple[Lake, dg.DagsterInstance], tmp_path: Path
) -> None:
    """The robots.txt evidence of every published page rewritten to name a capture that did not
    govern it, with the same verdicts (a re-read of the recorded verdicts alone passes it): the
    gate recomputes each page's site-file evidence from the captures current when it was
    fetched and names every such row."""
    lake, _ = built_sample
    copy = tmp_path / "copy"
    shutil.copytree(releases(lake) / latest(lake), copy)
    tables = {path.stem: StoredTable(UPath(path)) for path in lake.tables_of("rights_pages")}
    with release_ledger(tmp_path / "scratch", 64 * MIB) as ledger:
        add_audits(ledger, {"rights_pages": tables}, KINDS, BatchSize())
        site_files = page_site_files(lake, ledger)
        assert gate.row_violations(copy, [], site_files=site_files).violating == 0

        shard = copy / "text" / "part-00000.parquet"
        frame = pl.read_parquet(shard)
        pages = frame.filter(pl.col("source_kind") == "archives")
        assert pages.height >= 3
        elsewhere = "https://elsewhere.example/robots.txt captured 2019-01-01T00:00:00Z in old"
        frame.with_columns(
            consent=pl.col("consent").list.eval(
                pl.when(pl.element().struct.field("channel").str.starts_with("robots.txt"))
                .then(pl.element().struct.with_fields(location=pl.lit(elsewhere)))
                .otherwise(pl.element())
            )
        ).write_parquet(shard)

        assert gate.row_violations(copy, []).violating == 0  # the recorded verdicts pass them
        violations = gate.row_violations(copy, [], site_files=site_files).shown
    assert {v["source_id"] for v in violations} == set(pages["source_id"])
    assert all(
        f"robots.txt evidence not from the capture current at the fetch: names {elsewhere}"
        in v["problems"]
        for v in violations
    )


def test_each_page_is_checked_against_the_site_files_of_its_own_fetch_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A batch of release rows, in any order, gets each page's fetch time from its audit row
    (`fetched_at`, else `date`; an empty one is none); a row that is not a page, or whose audit
    row is unknown, gets none."""
    from commons_assets.defs.publish import assets

    monkeypatch.setattr(assets, "site_policies", lambda lake: "the sites")

    def governing(sites: str, row: dict[str, object]) -> tuple[object, ...] | None:
        assert sites == "the sites"
        return (row["source_uri"], row["fetched_at"]) if row["source_kind"] == "archives" else None

    monkeypatch.setattr(assets, "governing_files", governing)
    audited = pl.DataFrame(
        {
            "id": ["p3", "p1", "p2", "t1", "p4"],
            "source_kind": ["archives", "archives", "archives", "texts", "archives"],
            "fetched_at": ["2026-03-01", None, "", None, "2026-04-01"],
            "date": ["2020-01-03", "2020-01-01", "2020-01-02", None, None],
        }
    )
    ids = ["p1", "t1", "p2", "p25", "p3", "zz", "p4"]
    batch = pl.DataFrame(
        {
            "id": ids,
            "source_kind": ["texts" if i == "t1" else "archives" for i in ids],
            "source_uri": [f"https://{i}.example/" for i in ids],
        }
    )
    audits = {"rights_pages": {"p": StoredTable(UPath(tmp_path / "p.parquet"))}}
    audited.write_parquet(tmp_path / "p.parquet")
    with release_ledger(tmp_path / "scratch", 64 * MIB) as ledger:
        add_audits(ledger, audits, KINDS, BatchSize())
        found = page_site_files(Lake(root="unused"), ledger)(batch)
    assert found == [
        ("https://p1.example/", "2020-01-01"),
        None,
        ("https://p2.example/", "2020-01-02"),
        ("https://p25.example/", None),
        ("https://p3.example/", "2026-03-01"),
        ("https://zz.example/", None),
        ("https://p4.example/", "2026-04-01"),
    ]
