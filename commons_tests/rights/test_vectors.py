"""The decision vectors of CONSENT_AND_LICENCES.md section (b), through the full gate order.
Each assumes no other signals and CC-BY-4.0 unless the vector names another licence."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import replace
from typing import Any
from urllib.robotparser import RobotFileParser

import pytest

from commons_assets.rights.audit import SiteFiles, Takedown, decide
from commons_assets.rights.licences import EXCLUDE, HOLD, INCLUDE, INCLUDE_ATTRIB
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.robots import RobotsTxt

SITE = "https://site.example"
POLICY = RightsPolicy()
DRAFT_ROBOTS = (  # draft-ietf-aipref-attach §Example
    "User-Agent: *\nAllow: /\nDisallow: /never/\nContent-Usage: train-ai=n\n"
    "Content-Usage: /ai-ok/ train-ai=y\n"
)
SPAWNING_AI_TXT = "# Spawning AI\nUser-Agent: *\nDisallow: *.jpg\n"


def page(
    path: str = "/post/1", headers: dict[str, str] | None = None, licence: str | None = "CC-BY-4.0"
) -> dict[str, Any]:
    url = SITE + path
    return {
        "id": "r1",
        "source_kind": "archives",
        "source_id": url,
        "source_uri": url,
        "sha256": "0" * 64,
        "licence_raw": licence,
        "licence_evidence": [],
        "consent": [
            {"channel": f"http:{name.lower()}", "raw": value, "verdict": None, "location": url}
            for name, value in (headers or {}).items()
        ],
    }


def post(declaration: dict | None, licence: str | None = None) -> dict[str, Any]:
    uri = "at://did:plc:abc/app.bsky.feed.post/1"
    consent = []
    if declaration is not None:
        consent.append(
            {
                "channel": "bluesky:user-intents",
                "raw": json.dumps(declaration),
                "verdict": None,
                "location": "intents.jsonl:1",
            }
        )
    return {
        "id": "p1",
        "source_kind": "social",
        "source_id": uri,
        "source_uri": uri,
        "attribution": "did:plc:abc",
        "sha256": "1" * 64,
        "licence_raw": licence,
        "licence_evidence": [],
        "consent": consent,
    }


def robots(body: str, status: int = 200) -> SiteFiles:
    return SiteFiles(robots=RobotsTxt.from_response(status, body))


def decision_of(
    record: dict[str, Any], site: SiteFiles | None = None, takedowns: list[Takedown] | None = None
) -> tuple[str, str]:
    # The vectors are about one signal each: their site's robots.txt was captured and says
    # nothing (a missing capture is a signal of its own: test_robots_never_captured_*).
    site = site or SiteFiles()
    if site.robots is None:
        site = replace(site, robots=RobotsTxt.from_response(200, ""))
    result = decide(record, site, takedowns or [], POLICY)
    return result.decision, result.gate


@pytest.mark.parametrize(
    ("vector", "record", "site", "expected"),
    [
        (1, page(headers={"Content-Usage": "train-ai=n"}), None, EXCLUDE),
        (2, page(headers={"Content-Usage": "train-ai=y, search=n"}), None, INCLUDE_ATTRIB),
        (
            3,
            page(headers={"Content-Usage": "train-ai=y"}, licence="All rights reserved"),
            None,
            EXCLUDE,
        ),
        (4, page(headers={"Content-Usage": "Train-AI=n"}), None, INCLUDE_ATTRIB),
        (5, page(headers={"Content-Usage": 'train-ai="n"'}), None, INCLUDE_ATTRIB),
        (6, page(headers={"Content-Usage": "train-ai"}), None, INCLUDE_ATTRIB),
        (9, page(headers={"Content-Usage": "search=n"}), None, INCLUDE_ATTRIB),
        (10, page(headers={"Content-Usage": "train-genai=n"}), None, EXCLUDE),
        (11, page(headers={"Content-Usage": "ai=n;exceptions=cc-cr"}), None, HOLD),
        (12, page("/post/1"), robots(DRAFT_ROBOTS), EXCLUDE),
        (13, page("/ai-ok/test"), robots(DRAFT_ROBOTS), INCLUDE_ATTRIB),
        (14, page("/never/x"), robots(DRAFT_ROBOTS), EXCLUDE),
        (
            16,
            page(),
            robots("User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"),
            EXCLUDE,
        ),
        (17, page(), robots("User-agent: GPTBot\nDisallow: /\n"), EXCLUDE),
        (
            18,
            page("/blog/1"),
            robots("User-agent: Googlebot\nDisallow: /private/\n"),
            INCLUDE_ATTRIB,
        ),
        (19, page("/a/b/c"), robots("User-agent: *\nDisallow: /a\nAllow: /a/b\n"), INCLUDE_ATTRIB),
        (20, page("/docs/a.pdf"), robots("User-agent: *\nDisallow: /*.pdf$\n"), EXCLUDE),
        (21, page(), robots("", status=503), HOLD),
        (22, page(), robots("", status=403), INCLUDE_ATTRIB),
        (
            23,
            page("/img/cat.jpg"),
            SiteFiles(ai_txt=RobotsTxt.from_response(200, SPAWNING_AI_TXT)),
            EXCLUDE,
        ),
        (
            24,
            page("/essays/1.html"),
            SiteFiles(ai_txt=RobotsTxt.from_response(200, SPAWNING_AI_TXT)),
            INCLUDE_ATTRIB,
        ),
        (25, page(headers={"tdm-reservation": "1"}), None, EXCLUDE),
        (
            26,
            page(headers={"tdm-reservation": "0", "tdm-policy": "https://x/p.json"}),
            None,
            INCLUDE_ATTRIB,
        ),
        (27, page(headers={"tdm-reservation": "yes"}), None, INCLUDE_ATTRIB),
        (30, page(), SiteFiles(tdmrep_json='{"location":"/","tdm-reservation":1}'), INCLUDE_ATTRIB),
        (34, page(headers={"tdm-reservation": "1"}, licence="CC-BY-4.0"), None, EXCLUDE),
    ],
)
def test_web_vectors(vector: int, record: dict, site: SiteFiles | None, expected: str) -> None:
    assert decision_of(record, site)[0] == expected, f"vector {vector}"


def test_vector_34_opt_out_gate_comes_before_the_licence_gate() -> None:
    assert decision_of(page(headers={"tdm-reservation": "1"})) == (EXCLUDE, "opt-out")


UPDATED = "2025-02-20T21:37:20.362Z"


@pytest.mark.parametrize(
    ("vector", "declaration", "expected", "gate"),
    [
        (
            35,
            {
                "$type": "org.user-intents.declaration",
                "syntheticContentGeneration": {"allow": False, "updatedAt": UPDATED},
            },
            EXCLUDE,
            "opt-out",
        ),
        (
            36,
            {
                "$type": "org.user-intents.declaration",
                "syntheticContentGeneration": {"allow": True, "updatedAt": UPDATED},
                "bulkDataset": {"allow": False, "updatedAt": UPDATED},
            },
            EXCLUDE,
            "opt-out",
        ),
        (
            37,
            {
                "$type": "org.user-intents.declaration",
                "syntheticContentGeneration": {"allow": True, "updatedAt": UPDATED},
                "bulkDataset": {"allow": True, "updatedAt": UPDATED},
            },
            INCLUDE,
            "consent",
        ),
        (
            38,
            {
                "$type": "org.user-intents.declaration",
                "protocolBridging": {"updatedAt": "2019-02-20T22:44:20.000Z"},
            },
            EXCLUDE,
            "default",
        ),
    ],
)
def test_bluesky_vectors(vector: int, declaration: dict, expected: str, gate: str) -> None:
    assert decision_of(post(declaration)) == (expected, gate), f"vector {vector}"


def test_vector_37_goes_to_the_consented_tier_with_the_declaration_as_evidence() -> None:
    declaration = {
        "$type": "org.user-intents.declaration",
        "syntheticContentGeneration": {"allow": True},
        "bulkDataset": {"allow": True},
    }
    result = decide(post(declaration), None, [], POLICY)
    assert result.tier == "consented"
    assert any(e["channel"] == "consent" for e in result.evidence)


def test_vector_39_a_deletion_wins_over_consent() -> None:
    declaration = {
        "$type": "org.user-intents.declaration",
        "syntheticContentGeneration": {"allow": True},
        "bulkDataset": {"allow": True},
    }
    deletion = Takedown("url", "at://did:plc:abc/app.bsky.feed.post/1", "deleted by author")
    assert decision_of(post(declaration), takedowns=[deletion]) == (EXCLUDE, "takedown")
    account = Takedown("did", "did:plc:abc", "account deleted")
    assert decision_of(post(declaration), takedowns=[account]) == (EXCLUDE, "takedown")


@pytest.mark.parametrize(
    ("vector", "licence", "expected"),
    [
        (40, "https://creativecommons.org/licenses/by/4.0/", INCLUDE_ATTRIB),
        (41, "http://creativecommons.org/licenses/by-nc/4.0/", EXCLUDE),
        (42, "https://creativecommons.org/licenses/by-nd/4.0/", EXCLUDE),
        (44, "https://creativecommons.org/publicdomain/zero/1.0/", INCLUDE),
        (45, "https://creativecommons.org/publicdomain/mark/1.0/", INCLUDE),
        (46, "http://rightsstatements.org/vocab/NoC-US/1.0/", INCLUDE),
        (47, "http://rightsstatements.org/vocab/InC/1.0/", EXCLUDE),
        (49, "http://rightsstatements.org/vocab/NKC/1.0/", HOLD),
        (50, "GPL-2.0", EXCLUDE),
        (52, "Unspecified", HOLD),
        (53, "No known copyright restrictions as determined by scanning institution.", HOLD),
    ],
)
def test_licence_vectors_through_the_gates(vector: int, licence: str, expected: str) -> None:
    assert decision_of(page(licence=licence)) == (expected, "licence"), f"vector {vector}"


def test_vector_53_with_the_bhl_allow_list_policy() -> None:
    policy = RightsPolicy(bhl_allow_list=True)
    record = page(licence="No known copyright restrictions as determined by scanning institution.")
    assert decide(record, robots(""), [], policy).decision == INCLUDE


def test_no_licence_and_no_signal_is_excluded_by_default() -> None:
    assert decision_of(page(licence=None)) == (EXCLUDE, "default")


def test_robots_never_captured_is_recorded_and_held_by_default() -> None:
    result = decide(page(), SiteFiles(), [], POLICY)
    assert (result.decision, result.gate) == (HOLD, "opt-out")
    assert "never captured" in result.reason
    assert {
        "channel": "robots.txt",
        "raw": None,
        "verdict": "never captured: HOLD (policy robots_never_captured)",
        "location": "site.example/robots.txt",
    } in result.evidence


@pytest.mark.parametrize(
    ("setting", "expected"), [("EXCLUDE", EXCLUDE), ("ignore", INCLUDE_ATTRIB)]
)
def test_robots_never_captured_follows_the_policy(setting: str, expected: str) -> None:
    policy = replace(POLICY, robots_never_captured=setting)
    assert decide(page(), SiteFiles(), [], policy).decision == expected


@pytest.mark.parametrize(
    ("body", "blocked"),
    [
        ("User-agent: *\nDisallow: /\n", ["*"]),  # every crawler, reported once as `*`
        ("User-agent: GPTBot\nDisallow: /\n", ["GPTBot"]),
        ("User-agent: GPTBot\nUser-agent: CCBot\nDisallow: /\n", ["CCBot", "GPTBot"]),
        ("User-agent: GPTBot\nDisallow: /\nAllow: /public\n", []),  # not the whole site
        ("User-agent: *\nDisallow: /\n\nUser-agent: GPTBot\nAllow: /\n", ["*"]),
    ],
)
def test_full_blocks_name_the_crawlers_the_file_names(body: str, blocked: list[str]) -> None:
    """A `*` block is one finding, not one per AI crawler it also covers; a crawler's own group
    that disallows everything is a finding of its own; the same for every page of the site."""
    site = robots(body)
    for path in ("/a", "/b/c"):
        result = decide(page(path), site, [], POLICY)
        found = [e["raw"] for e in result.evidence if e["channel"] == "robots.txt:full-block"]
        assert found == blocked
        assert (result.decision == EXCLUDE) == bool(blocked)


# --- RFC 9309: our matcher against Python's urllib.robotparser (vectors 19-22) ----------------


def stdlib(body: str) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse(body.splitlines())
    return parser


def test_vector_19_longest_match_where_stdlib_takes_the_first() -> None:
    body = "User-agent: *\nDisallow: /a\nAllow: /a/b\n"
    assert RobotsTxt.from_response(200, body).can_fetch("CCBot", "/a/b/c") is True
    assert stdlib(body).can_fetch("CCBot", "/a/b/c") is False


def test_vector_20_wildcards_where_stdlib_has_none() -> None:
    body = "User-agent: *\nDisallow: /*.pdf$\n"
    assert RobotsTxt.from_response(200, body).can_fetch("CCBot", "/x/a.pdf") is False
    assert stdlib(body).can_fetch("CCBot", "/x/a.pdf") is True


@pytest.mark.parametrize(("code", "ours", "theirs"), [(503, False, False), (403, True, False)])
def test_vectors_21_22_http_errors(
    monkeypatch: pytest.MonkeyPatch, code: int, ours: bool, theirs: bool
) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise urllib.error.HTTPError("https://site.example/robots.txt", code, "x", {}, None)

    monkeypatch.setattr(urllib.request, "urlopen", failing)
    parser = RobotFileParser("https://site.example/robots.txt")
    parser.read()
    assert parser.can_fetch("CCBot", "https://site.example/") is theirs
    assert RobotsTxt.from_response(code, "").can_fetch("CCBot", "/") is ours


def test_groups_merge_and_agents_match_whole_tokens() -> None:
    merged = RobotsTxt.from_response(
        200, "User-agent: GPTBot\nDisallow: /\n\nUser-agent: GPTBot\nAllow: /public/\n"
    )
    assert merged.can_fetch("GPTBot", "/public/x") is True  # stdlib ignores the second group
    substring = RobotsTxt.from_response(200, "User-agent: bot\nDisallow: /\n")
    assert substring.can_fetch("ClaudeBot", "/x") is True  # stdlib: "bot" in "claudebot"
    assert RobotsTxt.from_response(200, "User-agent: *\nDisallow: /\n").can_fetch(
        "x", "/robots.txt"
    )
