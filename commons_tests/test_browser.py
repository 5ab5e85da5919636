"""The user's daily work in the Dagster UI, in a real browser (Debian's Chromium driven by
Playwright) against `dagster dev` on a copy of the bundled sample data. The tests run in order,
as a steward's first session would: (a) look at the asset graph, (b) materialize one source
partition, (c) backfill every partition of an asset from its Partitions tab, then backfill
every sample partition from the graph ("Materialize all"), (d) read a partition's licence
audit and its checks, (e) follow a release row's source partition upstream. Each test saves
a screenshot under test-output/browser/; with COMMONS_SCREENSHOTS=docs/screenshots the README's
screenshots are refreshed too."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from commons_tests.optional import import_or_skip
from commons_tests.server import (
    REPO,
    Server,
    materialized,
    running_server,
    wait_for_backfill,
    wait_for_partitions,
)

playwright = import_or_skip("playwright.sync_api", required_by="COMMONS_REQUIRE_BROWSER")

CHROMIUM = Path("/usr/bin/chromium")
# Chromium as a headless test browser in a container: no sandbox (no user namespaces), no GPU,
# none of the background traffic that a first run starts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = REPO / "test-output" / "browser"
RUN_SECONDS = 300_000  # milliseconds, for Playwright's expectations
BACKFILL_SECONDS = 900
FAILED_RUNS = """
{ runsOrError(filter: {statuses: [FAILURE]}) { ... on Runs { results { runId jobName } } } }
"""

if not CHROMIUM.exists():
    # CI installs Debian's chromium (.ci/run) and sets COMMONS_REQUIRE_BROWSER: there, a missing
    # browser is a failure, not a skip.
    if os.environ.get("COMMONS_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

expect = playwright.expect


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("browser_home")
    data = home / "data"
    for part in ("sources", "policy"):  # the bundled sample, without any earlier build
        shutil.copytree(REPO / "data" / part, data / part)
    with running_server(home, data) as running:
        for asset in ("archive_pages", "corpus_texts", "image_records", "social_posts"):
            wait_for_partitions(running, asset)
        yield running


@pytest.fixture(scope="module")
def context(server: Server) -> Iterator[object]:
    """One browser profile for the whole session, as a user's: the first-visit modal is
    dismissed once."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            profile = browser.new_context(viewport={"width": 1440, "height": 900})
            opened = profile.new_page()
            opened.goto(server.url + "/overview")
            # "Join the Dagster community" asks on the first visit of a profile.
            with contextlib.suppress(playwright.Error):
                opened.get_by_role("button", name="Skip").first.click(timeout=15_000)
            opened.close()
            yield profile
        finally:
            browser.close()


@pytest.fixture
def page(context: object, request: pytest.FixtureRequest) -> Iterator[object]:
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    try:
        yield opened
    finally:
        # Whatever the outcome, the page as the user last saw it.
        OUTPUT.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(OUTPUT / f"{request.node.name}-last.png"))
        opened.close()


def visit(page: object, server: Server, path: str) -> None:
    page.goto(server.url + path)


def shown(scope: object, text: str, exact: bool = False) -> object:
    """The first visible element with this text (the UI keeps hidden copies of long names to
    measure them)."""
    return scope.get_by_text(text, exact=exact).filter(visible=True).first


def screenshot(page: object, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))
    if folder := os.environ.get("COMMONS_SCREENSHOTS"):
        target = REPO / folder
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(OUTPUT / f"{name}.png", target / f"{name}.png")


STAGES = ("sources", "clean", "rights", "dedupe", "publish", "governance")
# The README's lineage link: every stage's group open (Dagster keeps open groups in the URL).
LINEAGE_VIEW = "/asset-groups?expanded=" + "%2C".join(f"global%40global%3A{s}" for s in STAGES)


def test_a_asset_graph_shows_every_stage(page: object, server: Server) -> None:
    visit(page, server, "/asset-groups")
    for stage in STAGES:
        expect(shown(page, stage, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Materialize all")).to_be_visible()
    # Dagster opens the lineage with every group closed; the README's link opens them all.
    # The open graph is taller than a laptop screen: the screenshot shows all of it.
    page.set_viewport_size({"width": 1440, "height": 1500})
    visit(page, server, LINEAGE_VIEW)
    for asset in ("corpus_texts", "clean_pages", "rights_pages", "dedup_clusters", "release"):
        expect(shown(page, asset, exact=True)).to_be_visible()
    screenshot(page, "asset-graph")


def test_b_materialize_one_source_partition_by_clicking(page: object, server: Server) -> None:
    visit(page, server, "/assets/corpus_texts")
    page.get_by_role("button", name="Materialize").first.click()
    page.get_by_text("Select a partition or create one").click()
    page.get_by_text("community-writing", exact=True).filter(visible=True).last.click()
    page.get_by_text("Launch runs to materialize corpus_texts").click()  # closes the picker
    page.get_by_role("button", name="Launch 1 run").click()
    shown(page, "View", exact=True).click()  # the "Launched run" toast
    expect(shown(page, "Success", exact=True)).to_be_visible(timeout=RUN_SECONDS)
    expect(shown(page, "partition: community-writing")).to_be_visible()
    screenshot(page, "run")
    assert "community-writing" in materialized(server, "corpus_texts")[0]
    assert (server.data / "lake" / "corpus_texts" / "community-writing.parquet").exists()


def test_c_backfill_every_partition_from_the_partitions_tab(page: object, server: Server) -> None:
    expected = set(wait_for_partitions(server, "archive_pages"))
    assert not materialized(server, "archive_pages")[0]
    visit(page, server, "/assets/archive_pages?view=partitions")
    expect(page.get_by_text(f"Missing ({len(expected)})")).to_be_visible()
    page.get_by_role("button", name="Materialize").first.click()
    page.get_by_role("button", name="All", exact=True).click()
    page.get_by_role("button", name="Launch backfill").click()
    shown(page, "View", exact=True).click()  # the "Created backfill" toast
    backfill_id = page.url.rstrip("/").split("/")[-1]
    expect(shown(page, "archive_pages")).to_be_visible()
    assert wait_for_backfill(server, backfill_id, BACKFILL_SECONDS) == "COMPLETED_SUCCESS"
    visit(page, server, "/assets/archive_pages?view=partitions")
    expect(page.get_by_text(f"Materialized ({len(expected)})")).to_be_visible()
    screenshot(page, "partitions")
    assert materialized(server, "archive_pages") == (expected, set())


def test_c_backfill_every_sample_partition_from_the_graph(page: object, server: Server) -> None:
    visit(page, server, "/asset-groups")
    page.get_by_role("button", name="Materialize all").click()
    page.get_by_role("button", name="Launch backfill").click()
    shown(page, "View", exact=True).click()
    backfill_id = page.url.rstrip("/").split("/")[-1]
    # The backfill page lists every asset of the graph (the first rows are on screen).
    expect(shown(page, "archive_pages")).to_be_visible()
    assert wait_for_backfill(server, backfill_id, BACKFILL_SECONDS) == "COMPLETED_SUCCESS"
    page.reload()
    expect(shown(page, "Succeeded", exact=True)).to_be_visible()
    screenshot(page, "backfill")
    failed = server.graphql(FAILED_RUNS)["runsOrError"]["results"]
    assert not failed, failed  # no run of the session failed, sensors' runs included
    for asset in ("corpus_texts", "clean_texts", "rights_texts", "signatures_texts"):
        done, failed = materialized(server, asset)
        assert done == set(wait_for_partitions(server, "corpus_texts")) and not failed
    assert (server.data / "releases" / "LATEST").exists()


def test_d_licence_audit_of_a_partition(page: object, server: Server) -> None:
    visit(page, server, "/assets/rights_texts?view=partitions")
    shown(page, "community-writing", exact=True).click()
    expect(shown(page, "records audited")).to_be_visible()  # the markdown summary
    for label in ("decisions", "top_reasons", "examples", "decision/EXCLUDE", "admitted"):
        expect(shown(page, label, exact=True)).to_be_visible()
    # A row of the decision table: the licence gate excluded an in-copyright text.
    expect(shown(page, "in-copyright")).to_be_visible()
    shown(page, "summary", exact=True).scroll_into_view_if_needed()
    screenshot(page, "licence-audit")
    visit(page, server, "/assets/rights_texts?view=checks")
    expect(shown(page, "admitted_records_are_admissible")).to_be_visible()
    expect(shown(page, "review_queue")).to_be_visible()
    expect(shown(page, "Passed")).to_be_visible()
    screenshot(page, "checks")
    # The steward's queue: the review_queue check of one partition lists its held records.
    shown(page, "review_queue").click()
    # The check's own Partitions tab (the asset's tab of the same name comes first).
    page.get_by_text("Partitions", exact=True).filter(visible=True).last.click()
    shown(page, "community-writing", exact=True).click()
    expect(shown(page, "orchard-notes")).to_be_visible()
    expect(shown(page, "held_since", exact=True)).to_be_visible()
    screenshot(page, "review-queue")
    # The whole queue, every partition and source kind in one table (held_records).
    visit(page, server, "/assets/held_records")
    expect(shown(page, "by_partition", exact=True)).to_be_visible()
    expect(shown(page, "orchard-notes")).to_be_visible()
    expect(shown(page, "land-survey-copies")).to_be_visible()  # a page: robots.txt answered 503
    shown(page, "queue", exact=True).scroll_into_view_if_needed()
    screenshot(page, "held-records")


def test_e_follow_a_release_rows_source_partition_upstream(page: object, server: Server) -> None:
    releases = server.data / "releases"
    version = (releases / "LATEST").read_text().strip()
    rows = pl.read_parquet(releases / version / "text" / "*.parquet")
    row = rows.filter(pl.col("source_kind") == "texts").sort("id").row(0, named=True)
    partition = row["source_partition"]
    visit(page, server, "/assets/release")
    # The release's table of source partitions names the audit the row came through.
    expect(shown(page, f"rights_texts[{partition}]")).to_be_visible()
    # Upstream from the release, asset by asset, to the same partition of each.
    for upstream in ("rights_texts", "clean_texts", "corpus_texts"):
        page.locator(f'a[href="/assets/{upstream}"]').first.click()  # "Upstream assets"
        expect(page).to_have_url(re.compile(f"/assets/{upstream}(\\?|$)"))
        page.get_by_role("tab", name="Partitions").click()
        shown(page, partition, exact=True).click()
        expect(shown(page, "Materialized", exact=True)).to_be_visible()
        expect(page).to_have_url(re.compile(f"partition={partition}"))
        page.get_by_role("tab", name="Overview").click()
    expect(shown(page, "Upstream assets")).to_be_visible()
    screenshot(page, "lineage-source")
