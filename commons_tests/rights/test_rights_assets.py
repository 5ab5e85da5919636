"""The rights audit end to end: a WARC built here with site files, headers and meta tags goes
through source, clean and audit; the policy file changes decisions; the blocking check stops a
forbidden record."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from commons_assets.defs.clean.assets import clean_pages, clean_posts
from commons_assets.defs.governance.assets import AUDIT_INPUTS
from commons_assets.defs.rights import assets as rights_assets
from commons_assets.defs.rights.assets import (
    audit_summary,
    rights_pages,
    rights_posts,
    site_policies,
    stale_site_audits,
)
from commons_assets.defs.rights.checks import AUDIT_CHECKS
from commons_assets.defs.sources.assets import archive_pages, social_posts
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.rights import verify
from commons_assets.rights.site_policies import SitePolicies
from commons_assets.steward import resources_for
from commons_tests.builders import SAMPLE_DAY, WARC_DATE, warc_record_bytes, write_jsonl
from commons_tests.runs import materialize

CC_BY = '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
PARAGRAPHS = [
    "The lighthouse keeper climbed the spiral stairs every evening at dusk to light the lamp.",
    "In winter the storms shook the tower, and salt crusted the great lens by the morning.",
    "Ships passing the headland counted the flashes to know which coast they were following.",
    "When the light was automated, the keeper moved to the village and wrote down his stories.",
    "His notebooks now fill a shelf in the library, where visitors can read them on request.",
    "Children from the school visit the tower each spring to learn how the lens was polished.",
]


def article(title: str, head: str = "") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f"<html><head><title>{title}</title>{head}</head><body><nav>Home</nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>Footer</footer></body></html>"
    ).encode()


def build_warc(root: Path) -> None:
    records = [
        (
            "https://open.example/robots.txt",
            b"User-agent: *\nAllow: /\n",
            "text/plain",
            [],
            "200 OK",
        ),
        (
            "https://open.example/.well-known/tdmrep.json",
            json.dumps([{"location": "/reserved/*", "tdm-reservation": 1}]).encode(),
            "application/json",
            [],
            "200 OK",
        ),
        (
            "https://open.example/ai.txt",
            b"User-Agent: *\nDisallow: /media-like/\n",
            "text/plain",
            [],
            "200 OK",
        ),
        ("https://open.example/free", article("Free", CC_BY), "text/html", [], "200 OK"),
        ("https://open.example/reserved/a", article("Reserved", CC_BY), "text/html", [], "200 OK"),
        ("https://open.example/media-like/b", article("Media", CC_BY), "text/html", [], "200 OK"),
        (
            "https://open.example/meta",
            article("Meta", CC_BY + '<meta name="tdm-reservation" content="1">'),
            "text/html",
            [],
            "200 OK",
        ),
        (
            "https://open.example/header",
            article("Header", CC_BY),
            "text/html",
            [("Content-Usage", "train-ai=n")],
            "200 OK",
        ),
        (
            "https://open.example/nc",
            article(
                "NC", '<link rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">'
            ),
            "text/html",
            [],
            "200 OK",
        ),
        (
            "https://blocked.example/robots.txt",
            b"User-agent: GPTBot\nDisallow: /\n",
            "text/plain",
            [],
            "200 OK",
        ),
        ("https://blocked.example/page", article("Blocked", CC_BY), "text/html", [], "200 OK"),
        ("https://nofiles.example/page", article("No files", CC_BY), "text/html", [], "200 OK"),
    ]
    data = b"".join(
        warc_record_bytes(uri, body, content_type=ctype, headers=headers, status=status, number=i)
        for i, (uri, body, ctype, headers, status) in enumerate(records)
    )
    path = root / "sources" / "archives" / "sites.warc.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def run_pages(
    lake: Lake, instance: dg.DagsterInstance, partition: str = "sites", **kwargs
) -> dg.ExecuteInProcessResult:
    """Read every archive partition, collect the site policies of all of them and the takedown
    requests, clean every partition (deciding before extracting), then audit one partition (the
    result of that audit run)."""
    sync_partitions(instance, lake)
    keys = instance.get_dynamic_partitions("archives")
    for key in keys:
        materialize(
            [archive_pages], partition_key=key, resources=resources_for(lake), instance=instance
        )
    materialize([site_policies, *AUDIT_INPUTS], resources=resources_for(lake), instance=instance)
    for key in keys:
        materialize(
            [clean_pages], partition_key=key, resources=resources_for(lake), instance=instance
        )
    return materialize(
        [*AUDIT_INPUTS, rights_pages, *AUDIT_CHECKS[rights_pages.key]],
        partition_key=partition,
        resources=resources_for(lake),
        instance=instance,
        **kwargs,
    )


def decisions(lake: Lake) -> dict[str, tuple[str, str]]:
    frame = pl.read_parquet(lake.table_path("rights_pages", "sites"))
    return {
        row["source_id"].removeprefix("https://"): (row["decision"], row["gate"])
        for row in frame.to_dicts()
    }


@pytest.fixture
def sites_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    build_warc(root)
    return root


def test_which_pages_reach_the_audited_output(sites_root: Path, instance) -> None:
    lake = Lake(root=str(sites_root))
    result = run_pages(lake, instance)
    assert result.success
    assert decisions(lake) == {
        "open.example/free": ("INCLUDE_ATTRIB", "licence"),
        "open.example/reserved/a": ("EXCLUDE", "opt-out"),  # tdmrep.json
        "open.example/media-like/b": ("EXCLUDE", "opt-out"),  # ai.txt
        "open.example/meta": ("EXCLUDE", "opt-out"),  # <meta name="tdm-reservation">
        "open.example/header": ("EXCLUDE", "opt-out"),  # Content-Usage: train-ai=n
        "open.example/nc": ("EXCLUDE", "licence"),
        "blocked.example/page": ("EXCLUDE", "opt-out"),  # GPTBot fully blocked
        "nofiles.example/page": ("HOLD", "opt-out"),  # robots.txt never captured (policy)
    }
    frame = pl.read_parquet(lake.table_path("rights_pages", "sites"))
    blocked = frame.filter(pl.col("source_id") == "https://blocked.example/page").to_dicts()[0]
    assert (blocked["decision"], blocked["gate"]) == ("EXCLUDE", "opt-out")
    assert any(
        e["channel"] == "robots.txt:full-block" and e["raw"] == "GPTBot"
        for e in blocked["evidence"]
    )
    uncaptured = frame.filter(pl.col("source_id") == "https://nofiles.example/page").to_dicts()[0]
    assert uncaptured["decision_reason"] == "robots.txt of nofiles.example never captured"
    assert {
        "channel": "robots.txt",
        "raw": None,
        "verdict": "never captured: HOLD (policy robots_never_captured)",
        "location": "nofiles.example/robots.txt",
    } in uncaptured["evidence"]
    free = frame.filter(pl.col("source_id") == "https://open.example/free").to_dicts()[0]
    [robots] = [e for e in free["evidence"] if e["channel"] == "robots.txt"]
    assert robots["location"] == (f"https://open.example/robots.txt captured {WARC_DATE} in sites")
    [materialization] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "rights_pages"
    ]
    metadata = materialization.materialization.metadata
    assert metadata["decision/EXCLUDE"].value == 6
    assert metadata["decision/HOLD"].value == 1
    assert metadata["policy"].value["source"] == "defaults"
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["admitted_records_are_admissible"] is True


def test_the_policy_file_changes_decisions_and_is_recorded(sites_root: Path, instance) -> None:
    lake = Lake(root=str(sites_root))
    (sites_root / "policy").mkdir()
    (sites_root / "policy" / "licence_policy.toml").write_text(
        'crawler_token = "GPTBot"\n'  # now our crawler is the blocked one
    )
    assert run_pages(lake, instance).success
    assert decisions(lake)["open.example/free"] == ("INCLUDE_ATTRIB", "licence")
    frame = pl.read_parquet(lake.table_path("rights_pages", "sites"))
    blocked = frame.filter(pl.col("source_id") == "https://blocked.example/page").to_dicts()[0]
    assert any(e["verdict"] == "crawl disallowed" for e in blocked["evidence"])
    policies = set(frame["policy"])
    (sites_root / "policy" / "licence_policy.toml").write_text("")
    assert run_pages(lake, instance).success
    assert set(pl.read_parquet(lake.table_path("rights_pages", "sites"))["policy"]) != policies


def test_a_takedown_request_excludes_the_page(sites_root: Path, instance) -> None:
    lake = Lake(root=str(sites_root))
    write_jsonl(
        sites_root / "policy" / "takedowns" / "requests.jsonl",
        [
            {
                "match": "url",
                "value": "https://open.example/free",
                "reason": "author request",
                "requested_at": "2026-11-23",
                "scope": "record",
            },
            "not json",
        ],
    )
    result = run_pages(lake, instance)
    assert decisions(lake)["open.example/free"] == ("EXCLUDE", "takedown")
    [materialization] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "rights_pages"
    ]
    assert "not JSON" in materialization.materialization.metadata["takedown_file_problems"].value


@pytest.mark.parametrize("decide_first", [False, True])
def test_blocking_check_fails_when_a_forbidden_record_is_planted(
    sites_root: Path, instance, monkeypatch: pytest.MonkeyPatch, decide_first: bool
) -> None:
    """A bug in the audit's decision code admits the TDM-reserved page: the check, reading only
    the evidence, catches it and the run fails. When the clean stage decided before extracting,
    the page has no text and the audit holds it instead, so nothing unextracted is admitted."""
    (sites_root / "policy").mkdir(exist_ok=True)
    (sites_root / "policy" / "clean.toml").write_text(
        f"[extraction]\ndecide_first = {str(decide_first).lower()}\n"
    )
    real_decide = rights_assets.decide

    def buggy_decide(record, *args):
        result = real_decide(record, *args)
        if record["source_id"].endswith("/reserved/a"):
            result.decision = "INCLUDE_ATTRIB"
        return result

    monkeypatch.setattr(rights_assets, "decide", buggy_decide)
    lake = Lake(root=str(sites_root))
    result = run_pages(lake, instance, raise_on_error=False)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    admissible = evaluations["admitted_records_are_admissible"]
    if decide_first:
        assert admissible.passed
        assert decisions(lake)["open.example/reserved/a"] == ("HOLD", "not-extracted")
        return
    assert admissible.passed is False
    violations = admissible.metadata["violating_records"].value.records
    assert [v.data["source_id"] for v in violations] == ["https://open.example/reserved/a"]
    assert "reserved" in violations[0].data["problems"]


def test_posts_are_decided_by_intents_and_deletions(lake: Lake, data_root: Path, instance) -> None:
    later = data_root / "sources" / "social" / "2026-11-21"
    write_jsonl(later / "deletions.jsonl", [{"did": "did:plc:testbob"}])  # a later account deletion
    sync_partitions(instance, lake)
    assert materialize(
        [*AUDIT_INPUTS, social_posts, clean_posts, rights_posts],
        partition_key=SAMPLE_DAY,
        resources=resources_for(lake),
        instance=instance,
    ).success
    frame = pl.read_parquet(lake.table_path("rights_posts", SAMPLE_DAY))
    by_author = {
        row["attribution"]: (row["decision"], row["gate"], row["tier"]) for row in frame.to_dicts()
    }
    assert by_author["did:plc:testalice"] == ("INCLUDE", "consent", "consented")
    assert by_author["did:plc:testbob"] == ("EXCLUDE", "takedown", "open")


def test_audit_summary_counts_decisions_and_escapes_reasons() -> None:
    audited = pl.DataFrame(
        {
            "decision": ["INCLUDE", "INCLUDE_ATTRIB", "HOLD", "EXCLUDE", "EXCLUDE"],
            "decision_reason": [
                "a",
                "b",
                "licence x|y (unknown)",
                "licence ![i](https://t.example/x.png) <img src=x onerror=alert(1)>\n# H",
                "licence ![i](https://t.example/x.png) <img src=x onerror=alert(1)>\n# H",
            ],
        }
    )
    reasons = audited.group_by("decision", "decision_reason").len(name="count").sort("count")
    summary = audit_summary(audited, reasons)
    assert summary.startswith("**5 records audited**")
    assert (
        "- 2 admitted (1 INCLUDE, 1 INCLUDE_ATTRIB)\n- 1 held for review\n- 2 excluded" in summary
    )
    assert "| HOLD | licence x\\|y \\(unknown\\) | 1 |" in summary
    # A licence string is shown, never rendered: no image, no HTML, no heading, one table row.
    row = (
        "licence \\!\\[i\\]\\(https://t.example/x.png\\) &lt;img src=x onerror=alert\\(1\\)&gt; # H"
    )
    assert f"| EXCLUDE | {row} | 2 |" in summary
    assert "<img" not in summary and "\n# H" not in summary
    assert "review_queue" in summary


def robots_warc(root: Path, name: str, captures: list[tuple[str, str, bytes]]) -> None:
    """A WARC holding only robots.txt captures, as Common Crawl publishes them."""
    data = b"".join(
        warc_record_bytes(uri, body, content_type="text/plain", date=date, number=i)
        for i, (uri, date, body) in enumerate(captures)
    )
    path = root / "sources" / "archives" / f"{name}.warc.gz"
    path.write_bytes(data)


def test_site_policies_come_from_every_archive_partition(sites_root: Path, instance) -> None:
    """A robots.txt captured in another WARC governs the page: the capture current when the
    page was fetched (the earlier one here, which blocks GPTBot), named in the evidence."""
    robots_warc(
        sites_root,
        "robotstxt-2026-11",
        [
            (
                "https://NOFILES.example:443/robots.txt",
                "2026-11-01T00:00:00Z",
                b"User-agent: GPTBot\nDisallow: /\n",
            ),
            (
                "https://nofiles.example/robots.txt",
                "2026-12-01T00:00:00Z",
                b"User-agent: *\nAllow: /\n",
            ),
        ],
    )
    lake = Lake(root=str(sites_root))
    assert run_pages(lake, instance).success
    assert decisions(lake)["nofiles.example/page"] == ("EXCLUDE", "opt-out")
    frame = pl.read_parquet(lake.table_path("rights_pages", "sites"))
    page = frame.filter(pl.col("source_id") == "https://nofiles.example/page").to_dicts()[0]
    [robots] = [e for e in page["evidence"] if e["channel"] == "robots.txt:full-block"]
    assert robots["location"] == (
        "https://NOFILES.example:443/robots.txt captured 2026-11-01T00:00:00Z in robotstxt-2026-11"
    )
    # The robots-only partition holds no page: its audit is empty, not an error.
    assert run_pages(lake, instance, partition="robotstxt-2026-11").success
    assert pl.read_parquet(lake.table_path("rights_pages", "robotstxt-2026-11")).height == 0


def page_audits(lake: Lake) -> dict[str, pl.LazyFrame]:
    return {"sites": pl.scan_parquet(lake.table_path("rights_pages", "sites"))}


def test_a_page_audit_made_before_its_sites_captures_changed_is_stale(
    sites_root: Path, instance
) -> None:
    """A robots.txt WARC that arrives after the audit changes what governs the pages of its
    hosts: the release refuses the old audit until the partition is audited again."""
    lake = Lake(root=str(sites_root))
    assert run_pages(lake, instance).success
    assert stale_site_audits(lake, instance, page_audits(lake)) == {}
    robots_warc(
        sites_root,
        "robotstxt-late",
        [
            (
                "https://nofiles.example/robots.txt",
                "2026-11-01T00:00:00Z",
                b"User-agent: *\nDisallow: /\n",
            )
        ],
    )
    sync_partitions(instance, lake)
    materialize(
        [archive_pages],
        partition_key="robotstxt-late",
        resources=resources_for(lake),
        instance=instance,
    )
    materialize([site_policies], resources=resources_for(lake), instance=instance)
    assert stale_site_audits(lake, instance, page_audits(lake)) == {
        "sites": "its sites' robots.txt/ai.txt/tdmrep.json captures changed since the audit"
    }
    assert run_pages(lake, instance).success
    assert stale_site_audits(lake, instance, page_audits(lake)) == {}
    assert decisions(lake)["nofiles.example/page"] == ("EXCLUDE", "opt-out")


def write_dated_story(root: Path, decide_first: bool) -> None:
    """A page published in 2019 (its markup says so) and fetched in 2026 (partition `dated`),
    and its site's robots.txt captured in 2020 (allowing everyone) and on 2026-11-01 (blocking
    GPTBot), in partition `robotstxt-history`."""
    (root / "policy").mkdir(exist_ok=True)
    (root / "policy" / "clean.toml").write_text(
        f"[extraction]\ndecide_first = {str(decide_first).lower()}\n"
    )
    robots_warc(
        root,
        "robotstxt-history",
        [
            ("https://dated.example/robots.txt", "2020-01-01T00:00:00Z", b"User-agent: *\n"),
            (
                "https://dated.example/robots.txt",
                "2026-11-01T00:00:00Z",
                b"User-agent: GPTBot\nDisallow: /\n",
            ),
        ],
    )
    published = '<meta property="article:published_time" content="2019-05-01T00:00:00Z">'
    page = warc_record_bytes(
        "https://dated.example/old-story", article("Old story", CC_BY + published), number=0
    )
    (root / "sources" / "archives" / "dated.warc.gz").write_bytes(page)


@pytest.mark.parametrize("decide_first", [False, True])
def test_a_page_is_judged_by_the_site_files_current_when_it_was_fetched_not_published(
    sites_root: Path, instance, decide_first: bool
) -> None:
    """A page published in 2019 (its markup says so) and fetched in 2026: the robots.txt that
    governs it is the one current at the fetch (2026-11-01, blocking GPTBot), not the one of
    2020 (allowing everyone), which is the only capture before the publication date."""
    write_dated_story(sites_root, decide_first)
    lake = Lake(root=str(sites_root))
    assert run_pages(lake, instance, partition="dated").success
    frame = pl.read_parquet(lake.table_path("rights_pages", "dated"))
    [row] = frame.to_dicts()
    assert (row["decision"], row["gate"]) == ("EXCLUDE", "opt-out")
    robots = [e for e in row["evidence"] if e["channel"].startswith("robots.txt")]
    assert robots and all("captured 2026-11-01T00:00:00Z" in e["location"] for e in robots)
    if not decide_first:  # extracted: the markup's publication date is the record's date
        assert row["date"].startswith("2019-05-01"), row["date"]


def test_the_blocking_check_refuses_evidence_of_a_capture_that_did_not_govern_the_page(
    sites_root: Path, instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old bug planted again: the audit picks a page's site files by its publication date
    (2019) instead of its fetch (2026), and admits the page on the 2020 robots.txt. Its recorded
    verdicts agree with that capture, so only recomputing the evidence from the capture current
    at the fetch (which blocks GPTBot) catches it, and the check does. (With decide_first on,
    the clean stage has only the fetch date and leaves the page unextracted: the audit holds
    it.)"""
    write_dated_story(sites_root, decide_first=False)

    def by_publication_date(row):  # the lookup before fetched_at existed
        return row.get("date")

    monkeypatch.setattr(rights_assets, "fetched_at", by_publication_date)
    lake = Lake(root=str(sites_root))
    result = run_pages(lake, instance, partition="dated", raise_on_error=False)

    [row] = pl.read_parquet(lake.table_path("rights_pages", "dated")).to_dicts()
    assert row["decision"] in ("INCLUDE", "INCLUDE_ATTRIB"), row["decision_reason"]
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    admissible = evaluations["admitted_records_are_admissible"]
    assert admissible.passed is False
    [violation] = admissible.metadata["violating_records"].value.records
    assert violation.data["source_id"] == "https://dated.example/old-story"
    assert violation.data["problems"].startswith(
        "robots.txt evidence not from the capture current at the fetch"
    )
    sites = SitePolicies.from_frame(pl.read_parquet(lake.table_path("site_policies")))
    found = verify.problems(row, [], site=sites.files_for(row["source_uri"], row["fetched_at"]))
    assert found == [
        "robots.txt evidence not from the capture current at the fetch: names "
        "https://dated.example/robots.txt captured 2020-01-01T00:00:00Z in robotstxt-history; "
        "governing: https://dated.example/robots.txt captured 2026-11-01T00:00:00Z in "
        "robotstxt-history",
        "its governing site files: robots.txt fully blocks AI training crawlers: GPTBot",
    ]
