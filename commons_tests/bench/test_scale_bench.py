"""`commons bench scale`'s machinery on tiny crawls made from the bundled sample: the crawl holds
what it says, and the bench runs every Commons step in its own process and prints every figure
(datatrove is a benchmark-only extra: left out here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from commons_assets.sources.warc import read_warc
from commons_bench.crawl import PAGES_PER_SITE, generate_crawl, opted_out
from commons_bench.scale import run, slope


def test_a_crawl_holds_its_pages_robots_files_opt_outs_and_duplicates(tmp_path: Path) -> None:
    facts = generate_crawl(tmp_path, 120, 50, opt_out_share=0.5, duplicate_share=0.2, seed=7)
    assert (facts.pages, facts.partitions, facts.sites) == (120, 3, 5)
    assert facts.opted_out_pages == sum(
        1 for page in range(120) if opted_out(page // PAGES_PER_SITE, 0.5, 7)
    )
    assert 0 < facts.duplicate_pages < 60
    read = [read_warc(path, path.name, path.name) for path in sorted(tmp_path.glob("*.warc.gz"))]
    pages = [r for part in read for r in part.records if r["record_role"] == "page"]
    robots = [r for part in read for r in part.records if r["record_role"] == "robots.txt"]
    assert len(pages) == 120 and not any(part.quarantined for part in read)
    # Each site's robots.txt is in every partition its pages are in.
    site_partitions = {(page // PAGES_PER_SITE, page // 50) for page in range(120)}
    assert len(robots) == len(site_partitions)
    blocked = [r for r in robots if "CCBot" in (r["text"] or "")]
    assert len(blocked) == sum(opted_out(site, 0.5, 7) for site, _ in site_partitions)


def test_the_slope_of_linear_growth_is_one() -> None:
    assert slope((10, 2.0), (50, 10.0)) == pytest.approx(1.0)
    assert slope((10, 2.0), (50, 20.0)) > 1.4


def test_the_bench_prints_every_figure_for_commons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        None,
        sizes=(30, 60),
        partition_pages=(30,),
        opt_out_shares=(0.0,),
        work=tmp_path,
        with_datatrove=False,
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("  commons    ok") == 2
    assert "pages/cpu-s" in out and "peak RSS" in out
    assert "peak RSS per step, partitions of 30 pages" in out
    assert "slope of cpu time, 30 -> 60 pages" in out
    assert "datatrove skipped" in out


def test_rounds_rebuild_the_crawl_and_the_best_run_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        None,
        sizes=(30,),
        partition_pages=(30,),
        opt_out_shares=(0.0,),
        work=tmp_path,
        with_datatrove=False,
        rounds=2,
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "round 2:" in out
    runs = [line for line in out.splitlines() if line.startswith("  commons    ok")]
    assert len(runs) == 2, out
    steps = [int(line.split("steps")[1].split()[0]) for line in runs]
    assert steps[0] == steps[1] > 5
    log = (tmp_path / "steps.log").read_text()
    assert log.count("== commons on optout0-p30-n30") == 2
    # The second round built the crawl again from its sources alone: a fresh instance (one run
    # per step of that round, none of the first) and one release, not a second version.
    import dagster as dg

    root = tmp_path / "optout0-p30-n30"
    with dg.DagsterInstance.from_config(str(root / "dagster_home")) as instance:
        assert instance.get_runs_count() == steps[1]
    assert len([version for version in (root / "releases").iterdir() if version.is_dir()]) == 1
