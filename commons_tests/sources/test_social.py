from __future__ import annotations

import json
from pathlib import Path

from commons_assets.sources.social import read_social_day
from commons_tests.builders import write_jsonl

A, B, C = "did:plc:a", "did:plc:b", "did:plc:c"


def post(did: str, n: int, text: str = "hello") -> dict:
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{n}",
        "did": did,
        "text": text,
        "created_at": "2026-11-20T10:00:00Z",
        "langs": ["en"],
    }


def declaration(did: str, updated: str, allow: bool, kind: str = "org.user-intents.declaration"):
    return {
        "did": did,
        "record": {
            "$type": kind,
            "updatedAt": updated,
            "syntheticContentGeneration": {"allow": allow},
        },
    }


def test_deleted_posts_and_accounts_are_not_carried_and_intents_attached(tmp_path: Path) -> None:
    day = tmp_path / "sources" / "social" / "2026-11-20"
    write_jsonl(
        day / "posts.jsonl",
        [
            post(A, 1),
            post(A, 2),
            post(B, 1),
            post(C, 1),
            '{"uri": 1',
            {"uri": "at://x", "did": C},
            {"text": "no uri"},
        ],
    )
    write_jsonl(
        day / "intents.jsonl",
        [
            declaration(A, "2026-11-01T00:00:00Z", False),
            declaration(A, "2026-11-02T00:00:00Z", True),
            {"did": B, "record": {"$type": "com.example.other"}},
            {"record": {}},
        ],
    )
    write_jsonl(day / "deletions.jsonl", [{"uri": post(A, 2)["uri"]}, {"did": C}, {"nothing": 1}])
    result = read_social_day(day, "2026-11-20", tmp_path)
    assert [r["source_id"] for r in result.records] == [post(A, 1)["uri"], post(B, 1)["uri"]]
    assert dict(result.not_carried) == {"post deleted by its author": 1, "account deleted": 2}
    a_post, b_post = result.records
    [signal] = a_post["consent"]
    assert signal["channel"] == "bluesky:user-intents"
    assert json.loads(signal["raw"])["syntheticContentGeneration"] == {"allow": True}  # newest wins
    assert b_post["consent"] == []
    assert (a_post["language"], a_post["attribution"]) == ("en", A)
    assert sorted(q["reason"] for q in result.quarantined) == [
        "invalid_deletion",
        "invalid_intent",
        "invalid_intent",
        "invalid_json",
        "missing_field",
    ]
    # A deleted post leaves no trace of its content anywhere in the output.
    deleted = post(A, 2)["uri"]
    assert all(deleted not in json.dumps(row) for row in result.records + result.quarantined)


def test_declarations_from_earlier_days_stay_in_force(tmp_path: Path) -> None:
    social = tmp_path / "sources" / "social"
    write_jsonl(
        social / "2026-11-19" / "intents.jsonl",
        [declaration(A, "2026-11-19T00:00:00Z", True, "org.user-intents.demo.declaration")],
    )
    write_jsonl(
        social / "2026-11-21" / "intents.jsonl", [declaration(A, "2026-11-21T00:00:00Z", False)]
    )
    write_jsonl(social / "2026-11-20" / "posts.jsonl", [post(A, 1)])
    [record] = read_social_day(social / "2026-11-20", "2026-11-20", tmp_path).records
    # The later day's declaration is not known yet on the 20th.
    assert json.loads(record["consent"][0]["raw"])["$type"] == "org.user-intents.demo.declaration"


def test_a_day_without_a_folder_has_no_posts(tmp_path: Path) -> None:
    result = read_social_day(tmp_path / "sources" / "social" / "2026-01-01", "2026-01-01", tmp_path)
    assert result.records == [] and result.quarantined == []
