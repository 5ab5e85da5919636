"""A takedown filed after a release: the sensor re-audits exactly the affected partition, then
rebuilds clusters and release; the next release omits the record."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from commons_assets.build import build
from commons_assets.definitions import defs
from commons_assets.defs.governance.sensors import evaluate
from commons_assets.defs.publish.assets import UPSTREAM_CHECK
from commons_assets.defs.publish.assets import release as release_asset
from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_tests.builders import write_jsonl
from commons_tests.runs import materialize


def run(request: dg.RunRequest, lake: Lake, instance: dg.DagsterInstance) -> None:
    selected = [a for a in defs.assets if a.key in set(request.asset_selection)]
    # As Dagster launches a run request: the selected assets with the checks it names.
    checks = [
        c for c in defs.asset_checks if set(c.check_keys) & set(request.asset_check_keys or [])
    ]
    assert materialize(
        [*selected, *checks],
        partition_key=request.partition_key,
        resources=resources_for(lake),
        instance=instance,
        tags=request.tags,
    ).success


def text_ids(root: Path) -> list[str]:
    version = (root / "releases" / "LATEST").read_text().strip()
    return [
        r[0]
        for r in duckdb.sql(
            f"SELECT source_id FROM read_parquet('{root}/releases/{version}/text/*.parquet') "
            "ORDER BY 1"
        ).fetchall()
    ]


def test_a_new_takedown_reaches_the_next_release(lake: Lake, data_root: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        assert build(defs, lake, instance, echo=lambda line: None)
        assert text_ids(data_root) == ["e1", "e3"]

        requests, state, _ = evaluate(None, lake, instance)
        assert requests == [] and not state["pending"]  # existing deletions: nothing published

        write_jsonl(
            data_root / "policy" / "takedowns" / "new.jsonl",
            [
                {"match": "id", "value": "e1", "reason": "author request", "scope": "record"},
            ],
        )
        # First the snapshot the audits apply; until it is refreshed, no release is cut.
        requests, state, note = evaluate(json.dumps(state), lake, instance)
        assert [sorted(k.to_user_string() for k in r.asset_selection) for r in requests] == [
            ["review_decisions", "takedown_requests"]
        ]
        assert "refreshing takedown_requests" in note
        refused = materialize(
            [release_asset],
            resources=resources_for(lake),
            instance=instance,
            raise_on_error=False,
        )
        assert not refused.success
        [upstream] = [
            e for e in refused.get_asset_check_evaluations() if e.check_name == UPSTREAM_CHECK
        ]
        assert not upstream.passed and "takedown_requests" in str(upstream.metadata)
        run(requests[0], lake, instance)

        requests, state, note = evaluate(json.dumps(state), lake, instance)
        assert [
            (r.partition_key, sorted(k.to_user_string() for k in r.asset_selection))
            for r in requests
        ] == [("essays", ["rights_texts", "signatures_texts"])]
        assert state["pending"] and "1 new request" in note

        # While nothing has run, the sensor does not rebuild; once the re-audit ran, it does.
        for request in requests:
            run(request, lake, instance)
        requests, state, note = evaluate(json.dumps(state), lake, instance)
        assert [sorted(k.to_user_string() for k in r.asset_selection) for r in requests] == [
            ["dedup_clusters", "held_records", "release"]
        ]
        run(requests[0], lake, instance)
        assert text_ids(data_root) == ["e3"]
        changes = (
            data_root
            / "releases"
            / (data_root / "releases" / "LATEST").read_text().strip()
            / "CHANGES.md"
        ).read_text()
        assert "author request" in changes

        requests, state, note = evaluate(json.dumps(state), lake, instance)
        assert requests == [] and note == "no new takedown requests"


def test_the_sensor_runs_through_dagster(lake: Lake) -> None:
    with (
        dg.DagsterInstance.ephemeral() as instance,
        dg.build_sensor_context(instance=instance, resources=resources_for(lake)) as context,
    ):
        result = defs.get_sensor_def("takedown_requests")(context)
        assert isinstance(result, dg.SensorResult)
        assert json.loads(result.cursor)["pending"] is False


def test_takedown_requests_are_snapshotted_with_their_unusable_lines(
    lake: Lake, data_root: Path
) -> None:
    from commons_assets.defs.governance.assets import takedown_requests
    from commons_assets.rights import snapshots

    write_jsonl(
        data_root / "policy" / "takedowns" / "a.jsonl",
        [
            {"match": "url", "value": "https://a.example/one", "reason": "request"},
            {"match": "colour", "value": "blue"},
        ],
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize([takedown_requests], resources=resources_for(lake), instance=instance)
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["in_force"].value == 2  # one request plus the fixture's one deletion
    assert metadata["unusable_lines"].value == 1
    described = {c.name: c.description for c in metadata["dagster/column_schema"].value.columns}
    assert described["problem"] == snapshots.COLUMNS["problem"] and all(described.values())
    frame = pl.read_parquet(lake.table_path("takedown_requests", "all"))
    assert metadata["fingerprint"].value == snapshots.fingerprint(frame)
    assert event.materialization.tags["dagster/data_version"] == snapshots.fingerprint(frame)
    applied = snapshots.takedowns_of(frame)
    assert applied.requests[0].value == "https://a.example/one"
    assert "a.jsonl:2" in applied.problems[0]
