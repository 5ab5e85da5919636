"""The steward's review queue on the bundled sample: `commons review list | show | decide`, then
the review_decisions sensor re-audits exactly the affected partition and rebuilds the release,
which carries (or omits) the record with the review as its evidence."""

from __future__ import annotations

import json

import dagster as dg
import polars as pl
import pytest

from commons_assets import cli
from commons_assets.definitions import defs
from commons_assets.defs.governance.sensors import REVIEWS, evaluate
from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_tests.runs import materialize


def run(request: dg.RunRequest, lake: Lake, instance: dg.DagsterInstance) -> None:
    """As Dagster launches a run request: the selected assets with the checks it names."""
    keys = set(request.asset_check_keys or [])
    assert materialize(
        [a for a in defs.assets if a.key in set(request.asset_selection)]
        + [c for c in defs.asset_checks if set(c.check_keys) & keys],
        partition_key=request.partition_key,
        resources=resources_for(lake),
        instance=instance,
        tags=request.tags,
    ).success


def release_rows(lake: Lake) -> pl.DataFrame:
    releases = lake.root_path / "releases"
    folder = releases / (releases / "LATEST").read_text().strip()
    return pl.concat(
        [
            pl.read_parquet(shard, columns=["source_id", "licence", "consent"])
            for shard in sorted(folder.rglob("*.parquet"))
        ]
    )


def held_queue(lake: Lake) -> pl.DataFrame:
    """The held_records asset's table: the queue across every partition and source kind."""
    return pl.read_parquet(lake.table_path("held_records", "all"))


def decide(lake: Lake, *args: str, reason: str, reviewer: str) -> int:
    """`commons review decide ARGS --reason … --reviewer …` on the sample's data root."""
    data = ["--data", str(lake.root_path)]
    return cli.main(["review", "decide", *args, "--reason", reason, "--reviewer", reviewer, *data])


def settle(lake: Lake, instance: dg.DagsterInstance, cursor: str | None) -> tuple[str, list]:
    """Run what the sensor asks until it asks nothing more; (cursor, re-audited partitions)."""
    reaudited = []
    for _ in range(4):
        requests, state, _ = evaluate(cursor, lake, instance, REVIEWS)
        cursor = json.dumps(state)
        if not requests:
            break
        for request in requests:
            if request.partition_key:
                reaudited.append(request.partition_key)
            run(request, lake, instance)
    return cursor, reaudited


def test_a_review_decision_reaches_the_next_release(
    built_sample: tuple[Lake, dg.DagsterInstance], capsys: pytest.CaptureFixture[str]
) -> None:
    lake, instance = built_sample
    data = ["--data", str(lake.root_path)]
    cursor, reaudited = settle(lake, instance, None)
    assert reaudited == []  # no decisions yet

    assert cli.main(["review", "list", *data]) == 0
    queue = capsys.readouterr().out
    assert "orchard-notes" in queue and "'see our website'" in queue
    assert cli.main(["review", "show", "orchard-notes", *data]) == 0
    assert "decision   HOLD (licence)" in capsys.readouterr().out
    assert "orchard-notes" not in set(release_rows(lake)["source_id"])
    queue = held_queue(lake)
    assert "orchard-notes" in set(queue["source_id"])
    assert {"texts", "images", "archives"} <= set(queue["source_kind"])  # every kind, one table

    reason = "the orchard society confirmed CC BY 4.0 by e-mail"
    include = ["orchard-notes", "--include", "--licence", "CC-BY-4.0"]
    assert decide(lake, *include, reason=reason, reviewer="ana@archive.example") == 0
    assert "include: record" in capsys.readouterr().out
    cursor, reaudited = settle(lake, instance, cursor)
    assert reaudited == ["community-writing"]  # exactly the partition holding the record

    rows = release_rows(lake).filter(pl.col("source_id") == "orchard-notes").to_dicts()
    assert len(rows) == 1 and rows[0]["licence"] == "CC-BY-4.0"
    (review,) = [e for e in rows[0]["consent"] if e["channel"] == "review"]
    assert review["location"] == "policy/reviews/decisions.jsonl:1"
    assert "ana@archive.example" in review["verdict"]
    releases = lake.root_path / "releases"
    changes = (releases / (releases / "LATEST").read_text().strip() / "CHANGES.md").read_text()
    assert "## Steward reviews applied" in changes and "decisions.jsonl:1" in changes
    assert cli.main(["review", "list", *data]) == 0
    assert "orchard-notes" not in capsys.readouterr().out
    # The UI's queue across partitions (held_records) was rebuilt with the release.
    assert "orchard-notes" not in set(held_queue(lake)["source_id"])

    # A later bulk decision on every record stating the same licence string: the record's own
    # decision names it more specifically, so it stays included.
    withdrawn = {"reason": "the society withdrew its permission", "reviewer": "ben@archive.example"}
    bulk = ["--licence-raw", "see our website", "--partition", "community-writing", "--exclude"]
    assert decide(lake, *bulk, **withdrawn) == 0
    assert "1 record(s) stating 'see our website'" in capsys.readouterr().out
    cursor, reaudited = settle(lake, instance, cursor)
    assert "orchard-notes" in set(release_rows(lake)["source_id"])
    # A decision on the record itself, later than the first, excludes it.
    assert decide(lake, "orchard-notes", "--exclude", **withdrawn) == 0
    cursor, reaudited = settle(lake, instance, cursor)
    assert reaudited == ["community-writing"]
    assert "orchard-notes" not in set(release_rows(lake)["source_id"])


def test_a_review_that_cannot_apply_is_not_written(
    built_sample: tuple[Lake, dg.DagsterInstance], capsys: pytest.CaptureFixture[str]
) -> None:
    lake, _ = built_sample
    data = ["--data", str(lake.root_path)]
    command = ["review", "decide", "--reason", "checked", "--reviewer", "ana", *data]
    # An opt-out (a robots.txt block of AI crawlers) is not a steward's to override.
    page = "https://news.example.net/local/harbour-breakwater-vote"
    assert cli.main([*command, page, "--include", "--licence", "CC0-1.0"]) == 1
    assert "never overrides a takedown or an opt-out" in capsys.readouterr().err
    # A licence that is not open cannot admit anything.
    assert cli.main([*command, "orchard-notes", "--include", "--licence", "CC-BY-NC-4.0"]) == 1
    assert "classifies as EXCLUDE (non-commercial)" in capsys.readouterr().err
    assert cli.main([*command, "no-such-record", "--exclude"]) == 1
    assert not (lake.root_path / "policy" / "reviews").exists()
    # A HOLD from a signal that cannot be read (robots.txt answered 503) is a steward's to decide.
    held = "https://records.example.gov/guides/land-survey-copies"
    assert cli.main([*command, held, "--include", "--licence", "CC0-1.0"]) == 0
