"""The steward's settings resource: each file read once per run, and only by the steps that
need it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from commons_assets import steward
from commons_assets.defs.clean.assets import clean_posts
from commons_assets.defs.governance.assets import AUDIT_INPUTS
from commons_assets.defs.rights.assets import rights_posts
from commons_assets.defs.rights.checks import AUDIT_CHECKS
from commons_assets.defs.sources.assets import social_posts
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_tests.builders import SAMPLE_DAY
from commons_tests.runs import materialize


def test_the_policy_is_read_once_per_run(
    lake: Lake, data_root: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_partitions(instance, lake)
    reads: list[Path] = []
    real = steward.load_policy

    def counted(root: Path):  # type: ignore[no-untyped-def]
        reads.append(root)
        return real(root)

    monkeypatch.setattr(steward, "load_policy", counted)
    result = materialize(
        [*AUDIT_INPUTS, social_posts, clean_posts, rights_posts, *AUDIT_CHECKS[rights_posts.key]],
        partition_key=SAMPLE_DAY,
        resources=resources_for(lake),
        instance=instance,
    )
    assert result.success
    # The audit and its blocking check both apply the policy: one read of the files.
    assert reads == [data_root]
    materialize(
        [*AUDIT_INPUTS, rights_posts, *AUDIT_CHECKS[rights_posts.key]],
        partition_key=SAMPLE_DAY,
        resources=resources_for(lake),
        instance=instance,
    )
    assert reads == [data_root, data_root]  # a new run reads the files again


def test_an_invalid_settings_file_stops_only_the_steps_that_need_it(
    lake: Lake, data_root: Path, instance: dg.DagsterInstance
) -> None:
    sync_partitions(instance, lake)
    (data_root / "policy").mkdir(exist_ok=True)
    (data_root / "policy" / "dedupe.toml").write_text("[minhash]\nnum_bands = 0\n")
    result = materialize(
        [*AUDIT_INPUTS, social_posts, clean_posts, rights_posts, *AUDIT_CHECKS[rights_posts.key]],
        partition_key=SAMPLE_DAY,
        resources=resources_for(lake),
        instance=instance,
    )
    assert result.success  # no step of this run reads the dedupe settings
    from commons_assets.defs.dedupe.assets import signatures_posts

    refused = materialize(
        [signatures_posts],
        partition_key=SAMPLE_DAY,
        resources=resources_for(lake),
        instance=instance,
        raise_on_error=False,
    )
    failure = next(e for e in refused.all_events if e.is_step_failure)
    assert failure.step_failure_data.user_failure_data.description == (
        "Invalid dedupe settings: policy/dedupe.toml: minhash.num_bands must be above 0, not 0"
    )
