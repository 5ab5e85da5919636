"""`commons build` on a small data root: every partition of every asset, progress, exit code."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from commons_assets import cli, kinds


@pytest.fixture(autouse=True)
def ephemeral_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # no dagster.yaml here: the build uses an ephemeral instance


def test_build_materializes_every_partition_and_prints_progress(
    data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A collection whose every line lacks an id keeps nothing: a warning with its main reason.
    no_ids = data_root / "sources" / "texts" / "no-ids"
    no_ids.mkdir(parents=True)
    (no_ids / "collection.json").write_text('{"licence": "CC0-1.0"}')
    (no_ids / "part-1.jsonl").write_text('{"text": "An essay without its id."}\n' * 3)
    assert cli.main(["build", "--data", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert "WARN  corpus_texts[no-ids]" in out and "kept nothing: 3 of 3 quarantined" in out
    # Both test pages are too short for the web-page rules: the clean partition keeps nothing.
    # One page dropped by the quality rules, the other excluded by its TDM header before
    # extraction (audited, not counted as dropped).
    assert "WARN  clean_pages[site-a]" in out and "kept nothing: 1 of 1 dropped" in out
    version = (data_root / "releases" / "LATEST").read_text().strip()
    release = (data_root / "releases" / version).resolve()
    assert out.splitlines()[-2].startswith("build finished") and "2 warning(s)" in out
    assert out.splitlines()[-1] == f"release: new version {version} at {release}"
    assert cli.main(["build", "--data", str(data_root)]) == 0
    again = capsys.readouterr().out.splitlines()
    assert again[-1] == f"release: no change since {version} (LATEST stays)"
    for label in (
        "archive_pages[site-a]",
        "corpus_texts[essays]",
        "image_records[photos]",
        "social_posts[2026-11-20]",
    ):
        assert f"ok    {label}" in out
    assert "build finished" in out
    lake = data_root / "lake"
    assert not list((lake / "_spool").iterdir())
    assert {p.name for p in lake.iterdir()} == {
        "_quarantine",
        "_dropped",
        "_not_carried",
        "_spool",  # where steps write batch by batch; empty once they end
        "held_records",
        "archive_pages",
        "corpus_texts",
        "image_records",
        "social_posts",
        "clean_pages",
        "clean_texts",
        "clean_images",
        "clean_posts",
        "site_policies",
        "takedown_requests",
        "review_decisions",
        "rights_pages",
        "rights_texts",
        "rights_images",
        "rights_posts",
        "signatures_pages",
        "signatures_texts",
        "signatures_posts",
        "signatures_images",
        "dedup_clusters",
        "_dedupe_index",
    }
    for label in ("clean_pages[site-a]", "clean_texts[essays]", "clean_posts[2026-11-20]"):
        assert f"ok    {label}" in out
    assert pl.read_parquet(lake / "corpus_texts" / "essays.parquet").height == 2


def test_build_exits_non_zero_when_a_partition_fails(
    data_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_reader(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(kinds, "read_text_collection", broken_reader)
    assert cli.main(["build", "--data", str(data_root)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  corpus_texts[essays]" in out and "disk on fire" in out
    assert "ok    social_posts[2026-11-20]" in out  # the other partitions still ran
    assert "build FAILED" in out
    assert out.splitlines()[-2].startswith("release: ")  # before the --verbose hint


def test_build_refuses_a_data_root_without_sources(tmp_path: Path) -> None:
    assert cli.main(["build", "--data", str(tmp_path / "nothing")]) == 2


def test_build_exits_non_zero_when_a_blocking_check_fails(
    data_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from commons_assets.defs.rights import assets as rights_assets

    real_decide = rights_assets.decide

    def admit_everything(*args, **kwargs):
        result = real_decide(*args, **kwargs)
        result.decision = "INCLUDE"
        return result

    monkeypatch.setattr(rights_assets, "decide", admit_everything)
    assert cli.main(["build", "--data", str(data_root)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  rights_posts[2026-11-20]" in out
    assert "blocking check failed: admitted_records_are_admissible" in out
