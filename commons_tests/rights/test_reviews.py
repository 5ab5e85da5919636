"""Steward reviews: the file format, which decision is in force, the review gate's place after
takedowns and opt-outs, and verification that accepts a review only while it is in force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commons_assets.rights import verify
from commons_assets.rights.audit import Takedown, decide
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.reviews import (
    append_review,
    load_reviews,
    parse_review,
    review_for,
    review_line,
)

POLICY = RightsPolicy()
HELD = {
    "id": "r1",
    "source_kind": "texts",
    "source_partition": "letters",
    "source_id": "letter-7",
    "source_uri": "sources/texts/letters/part.jsonl:7",
    "sha256": "ab" * 32,
    "licence_raw": "see our website",
    "consent": [],
}


def line(**fields: object) -> dict:
    base = {
        "match": "id",
        "value": "r1",
        "decision": "include",
        "licence": "CC-BY-4.0",
        "reviewer": "ana@archive.example",
        "reason": "publisher confirmed by e-mail",
        "decided_at": "2026-11-25T10:00:00+00:00",
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"licence": None}, "an include needs the licence determination"),
        ({"licence": "CC-BY-NC-4.0"}, "classifies as EXCLUDE (non-commercial)"),
        ({"licence": "see our website"}, "classifies as HOLD"),
        ({"reviewer": ""}, "reviewer is required"),
        ({"reason": 5}, "reason is required"),
        ({"match": "title"}, "needs match in"),
        ({"decision": "maybe"}, "decision must be one of"),
        ({"partition": ""}, "partition must be a non-empty string"),
    ],
)
def test_an_invalid_decision_is_refused_with_its_reason(fields: dict, problem: str) -> None:
    review, why = parse_review(line(**fields), "policy/reviews/d.jsonl:3")
    assert review is None and why is not None
    assert why.startswith("policy/reviews/d.jsonl:3: ") and problem in why


def test_unusable_lines_are_reported_and_not_applied(tmp_path: Path) -> None:
    folder = tmp_path / "policy" / "reviews"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text(
        json.dumps(line()) + "\n{not json\n" + json.dumps(line(licence="All rights reserved"))
    )
    reviews, problems = load_reviews(tmp_path)
    assert [r.source for r in reviews] == ["policy/reviews/a.jsonl:1"]
    assert [p.split(": ")[0] for p in problems] == [
        "policy/reviews/a.jsonl:2",
        "policy/reviews/a.jsonl:3",
    ]


def test_the_most_specific_then_the_latest_decision_is_in_force() -> None:
    bulk, _ = parse_review(line(match="licence_raw", value="see our website"), "f:1")
    scoped, _ = parse_review(
        line(match="licence_raw", value="see our website", partition="letters", licence="CC0-1.0"),
        "f:2",
    )
    by_id, _ = parse_review(line(decision="exclude", licence=None), "f:3")
    later_id, _ = parse_review(line(licence="CC-BY-SA-4.0"), "f:4")
    elsewhere, _ = parse_review(
        line(match="licence_raw", value="see our website", partition="other"), "f:5"
    )
    assert review_for(HELD, [bulk]) is bulk
    assert review_for(HELD, [bulk, scoped]) is scoped  # its partition beats everywhere
    assert review_for(HELD, [scoped, by_id, bulk]) is by_id  # the record itself beats a string
    assert review_for(HELD, [by_id, later_id]) is later_id  # among equals, the latest line
    assert review_for(HELD, [elsewhere]) is None
    assert review_for({**HELD, "licence_raw": "other"}, [bulk]) is None


def test_a_review_admits_a_held_record_under_its_licence_with_evidence() -> None:
    assert decide(HELD, None, [], POLICY).decision == "HOLD"
    review, _ = parse_review(line(), "policy/reviews/d.jsonl:1")
    result = decide(HELD, None, [], POLICY, [review])
    assert (result.decision, result.gate) == ("INCLUDE_ATTRIB", "review")
    assert result.licence.normalised == "CC-BY-4.0" and result.licence.licence_class == "permissive"
    (entry,) = [e for e in result.evidence if e["channel"] == "review"]
    assert entry["location"] == "policy/reviews/d.jsonl:1" and entry["raw"] == "CC-BY-4.0"
    assert "ana@archive.example" in entry["verdict"]
    excluded, _ = parse_review(line(decision="exclude", licence=None), "f:2")
    assert decide(HELD, None, [], POLICY, [excluded]).decision == "EXCLUDE"


def test_a_review_never_overrides_a_takedown_or_an_opt_out() -> None:
    review, _ = parse_review(line(), "f:1")
    takedown = Takedown("id", "r1", "author asked")
    assert decide(HELD, None, [takedown], POLICY, [review]).gate == "takedown"
    opted_out = {
        **HELD,
        "consent": [
            {"channel": "http:content-usage", "raw": "train-ai=n", "verdict": None, "location": ""}
        ],
    }
    result = decide(opted_out, None, [], POLICY, [review])
    assert (result.decision, result.gate) == ("EXCLUDE", "opt-out")


def test_verification_accepts_a_review_only_while_it_is_in_force() -> None:
    review, _ = parse_review(line(), "f:1")
    result = decide(HELD, None, [], POLICY, [review])
    row = {
        **HELD,
        "decision": result.decision,
        "evidence": result.evidence,
        "licence_class": result.licence.licence_class,
        "tier": "open",
    }
    assert verify.problems(row, [], reviews=[review]) == []
    withdrawn = verify.problems(row, [], reviews=[])
    assert any("not in force" in p for p in withdrawn)
    changed, _ = parse_review(line(licence="CC0-1.0"), "f:2")
    assert any("not in force" in p for p in verify.problems(row, [], reviews=[review, changed]))


def test_a_review_decides_a_page_held_because_its_robots_txt_was_never_captured() -> None:
    """A HOLD from a signal that cannot be read is what a review is for; verification admits the
    page only while the review is in force, and refuses it admitted without one."""
    page = {
        **HELD,
        "source_kind": "archives",
        "source_id": "https://uncaptured.example/a",
        "source_uri": "https://uncaptured.example/a",
        "licence_raw": "https://creativecommons.org/licenses/by/4.0/",
    }
    held = decide(page, None, [], POLICY)
    assert (held.decision, held.gate) == ("HOLD", "opt-out")
    review, _ = parse_review(line(), "f:1")
    result = decide(page, None, [], POLICY, [review])
    assert (result.decision, result.gate) == ("INCLUDE_ATTRIB", "review")
    row = {**page, "decision": result.decision, "evidence": result.evidence, "tier": "open"}
    row["licence_class"] = result.licence.licence_class
    assert verify.problems(row, [], policy=POLICY, reviews=[review]) == []
    unreviewed = verify.problems(row, [], policy=POLICY, reviews=[])
    assert "robots.txt never captured (policy robots_never_captured)" in unreviewed
    forged = {**row, "evidence": held.evidence, "decision": "INCLUDE_ATTRIB"}
    assert "robots.txt never captured (policy robots_never_captured)" in verify.problems(
        forged, [], policy=POLICY, reviews=[]
    )


def test_append_review_writes_a_valid_line_or_nothing(tmp_path: Path) -> None:
    written = review_line("id", "r1", "include", "ana", "checked", "CC0-1.0")
    assert append_review(tmp_path, written) == "policy/reviews/decisions.jsonl:1"
    with pytest.raises(ValueError, match="an include needs the licence"):
        append_review(tmp_path, review_line("id", "r2", "include", "ana", "checked"))
    reviews, problems = load_reviews(tmp_path)
    assert [r.value for r in reviews] == ["r1"] and problems == []
