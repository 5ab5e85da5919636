"""How `commons build --ray` cuts a build into runs (scale_out.plan_phases): each run is one Ray
job, so the plan decides how many Python starts a build pays and what waits on what. No cluster
needed: the plan is made from the definitions and the data root."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from commons_assets import scale_out
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_tests.server import REPO


def planned(root: Path) -> list[list[str]]:
    lake = Lake(root=str(root))
    with dg.DagsterInstance.ephemeral() as instance:
        sync_partitions(instance, lake)
        return [[run.label for run in phase] for phase in scale_out.plan(instance, lake)]


def test_a_partitions_chain_is_one_run_and_each_asset_partition_is_planned_once() -> None:
    phases = planned(REPO / "data")
    assert phases == [
        [
            "archive_pages[crawl-2026-11-a]",
            "archive_pages[crawl-2026-11-b]",
            "archive_pages[robotstxt-2026-11]",
            "corpus_texts, clean_texts[community-writing]",
            "corpus_texts, clean_texts[public-domain-classics]",
            "image_records, clean_images[museum-mixed-rights]",
            "image_records, clean_images[public-domain-photos]",
            "social_posts, clean_posts[2026-11-20]",
            "social_posts, clean_posts[2026-11-21]",
            "social_posts, clean_posts[2026-11-22]",
            "takedown_requests, review_decisions",  # the texts' audits need them next
        ],
        [
            "site_policies",
            "rights_texts, signatures_texts[community-writing]",
            "rights_texts, signatures_texts[public-domain-classics]",
            "rights_images, signatures_images[museum-mixed-rights]",
            "rights_images, signatures_images[public-domain-photos]",
            "rights_posts, signatures_posts[2026-11-20]",
            "rights_posts, signatures_posts[2026-11-21]",
            "rights_posts, signatures_posts[2026-11-22]",
        ],
        [
            "clean_pages, rights_pages, signatures_pages[crawl-2026-11-a]",
            "clean_pages, rights_pages, signatures_pages[crawl-2026-11-b]",
            "clean_pages, rights_pages, signatures_pages[robotstxt-2026-11]",
        ],
        ["held_records, dedup_clusters, release"],
    ]


def test_unpartitioned_assets_wait_for_the_run_their_downstream_allows(tmp_path: Path) -> None:
    """A crawl alone: the steward's snapshots are first needed by the page audits, so they join
    site_policies' run instead of taking a CPU and a run of their own beside the partitions."""
    root = tmp_path / "data"
    shutil.copytree(REPO / "data" / "sources" / "archives", root / "sources" / "archives")
    shutil.copytree(REPO / "data" / "policy", root / "policy")
    assert planned(root) == [
        [
            "archive_pages[crawl-2026-11-a]",
            "archive_pages[crawl-2026-11-b]",
            "archive_pages[robotstxt-2026-11]",
        ],
        ["takedown_requests, review_decisions, site_policies"],
        [
            "clean_pages, rights_pages, signatures_pages[crawl-2026-11-a]",
            "clean_pages, rights_pages, signatures_pages[crawl-2026-11-b]",
            "clean_pages, rights_pages, signatures_pages[robotstxt-2026-11]",
        ],
        ["held_records, dedup_clusters, release"],
    ]
