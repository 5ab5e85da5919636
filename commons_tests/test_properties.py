"""Property-based tests (hypothesis) of everything that reads hostile input: the JSONL reader,
robots.txt, structured fields, licence strings and expressions, tdmrep.json, intent records,
takedown and review files. No exception escapes, and no decision is more permissive than the
spec allows (CONSENT_AND_LICENCES.md: the most restrictive signal wins)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commons_assets.records import PartitionRead
from commons_assets.rights import aipref, intents, tdmrep
from commons_assets.rights.audit import SiteFiles, decide
from commons_assets.rights.inputs import load_takedowns
from commons_assets.rights.licences import (
    EXCLUDE,
    HOLD,
    INCLUDE,
    INCLUDE_ATTRIB,
    classify_licence,
    classify_licences,
)
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.reviews import load_reviews, parse_review
from commons_assets.rights.robots import RobotsTxt
from commons_assets.sources.jsonl import jsonl_objects

OUTCOMES = {INCLUDE, INCLUDE_ATTRIB, HOLD, EXCLUDE}
POLICY = RightsPolicy()
# JSON-ish text: structure characters, escapes and numbers are where readers break.
jsonish = st.text(alphabet=st.sampled_from(list('{}[]":,\\u0123456789dDabcenulrtsf .-\n\x00')))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
lines = st.lists(
    st.one_of(
        st.binary(max_size=60),
        jsonish,
        json_values.map(json.dumps),
        st.dictionaries(st.text(max_size=8), json_values, max_size=4).map(json.dumps),
    ),
    max_size=8,
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def as_bytes(line: str | bytes) -> bytes:
    return line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")


@FAST
@given(lines)
def test_the_jsonl_reader_accounts_for_every_line(content: list[str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_bytes(b"\n".join(as_bytes(line).replace(b"\n", b" ") for line in content))
        result = PartitionRead("texts", "p")
        kept = list(jsonl_objects(path, "f.jsonl", result, max_line_bytes=200))
        lines_in = [line for line in path.read_bytes().split(b"\n") if line.strip()]
        assert len(kept) + len(result.quarantined) == len(lines_in)
        for _, value in kept:
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # storable as UTF-8


@FAST
@given(lines, lines)
def test_takedown_and_review_files_never_raise(takedowns: list, reviews: list) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, content in (("takedowns", takedowns), ("reviews", reviews)):
            (root / "policy" / name).mkdir(parents=True)
            (root / "policy" / name / "f.jsonl").write_bytes(
                b"\n".join(as_bytes(line).replace(b"\n", b" ") for line in content)
            )
        requests, problems = load_takedowns(root)
        decisions, review_problems = load_reviews(root)
        assert len(requests) + len(problems) <= len(takedowns)
        assert len(decisions) + len(review_problems) <= len(reviews)


@FAST
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=8))
def test_a_review_line_is_a_review_or_a_reason(obj: dict) -> None:
    review, problem = parse_review(obj, "f:1")
    assert (review is None) != (problem is None)


@FAST
@given(st.text(max_size=300), st.text(max_size=40), st.sampled_from([200, 404, 503, None]))
def test_robots_txt_never_raises(body: str, path: str, status: int | None) -> None:
    robots = RobotsTxt.from_response(status, body)
    url = f"https://site.example/{path}"
    robots.can_fetch("CommonsBot", url)
    list(robots.content_usage("CommonsBot", url))
    list(robots.content_signals("CommonsBot", url))
    robots.full_disallow("GPTBot")


@FAST
@given(st.text(max_size=300))
def test_a_full_block_of_an_ai_crawler_always_excludes(noise: str) -> None:
    """Whatever else a robots.txt says, a group that blocks GPTBot entirely opts the page out."""
    body = f"{noise}\n\nUser-agent: GPTBot\nDisallow: /\n"
    site = SiteFiles(robots=RobotsTxt.from_response(200, body))
    page = {
        "id": "p",
        "source_kind": "archives",
        "source_id": "https://site.example/a",
        "source_uri": "https://site.example/a",
        "licence_evidence": [
            {
                "channel": "html:link-rel-license",
                "raw": "https://creativecommons.org/licenses/by/4.0/",
            }
        ],
        "consent": [],
    }
    assert decide(page, site, [], POLICY).decision == EXCLUDE


@FAST
@given(jsonish | st.text(max_size=80))
def test_structured_fields_never_raise_and_stay_in_their_vocabulary(value: str) -> None:
    preference = aipref.parse_content_usage(value)
    assert preference.train_ai in (aipref.ALLOWED, aipref.DISALLOWED, aipref.UNKNOWN)
    assert aipref.parse_content_signal(value) in (
        aipref.ALLOWED,
        aipref.DISALLOWED,
        aipref.UNKNOWN,
    )


@FAST
@given(st.text(max_size=40))
def test_a_train_ai_refusal_is_never_lost_by_what_follows(suffix: str) -> None:
    value = "train-ai=n" + (", " + suffix if suffix else "")
    assert aipref.parse_content_usage(value).train_ai in (aipref.DISALLOWED, aipref.UNKNOWN)


@FAST
@given(st.text(max_size=120) | jsonish)
def test_any_licence_statement_gets_one_of_the_four_outcomes(raw: str) -> None:
    assert classify_licence(raw).outcome in OUTCOMES


@FAST
@given(st.lists(st.text(max_size=60), max_size=4))
def test_a_non_commercial_statement_among_others_always_excludes(others: list[str]) -> None:
    """Several statements for one work: the most restrictive decides."""
    verdict = classify_licences([*others, "https://creativecommons.org/licenses/by-nc/4.0/"])
    assert verdict.outcome == EXCLUDE


@FAST
@given(jsonish | json_values.map(json.dumps), st.text(max_size=30))
def test_tdmrep_json_never_raises(document: str, path: str) -> None:
    rule, _ = tdmrep.rule_for(document, "/" + path)
    assert rule is None or isinstance(rule, dict)


@FAST
@given(json_values | jsonish)
def test_intent_declarations_never_raise(raw: object) -> None:
    declared = intents.parse_declaration(raw if isinstance(raw, str | dict) else json.dumps(raw))
    assert declared.synthetic in (True, False, None) and declared.bulk in (True, False, None)
