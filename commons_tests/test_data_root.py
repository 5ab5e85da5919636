"""One Dagster instance per data root: the instance records the data root its runs belong to,
refuses another one, and every materialization names its data root."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from commons_assets import cli
from commons_assets.defs.sources.assets import corpus_texts
from commons_assets.defs.sources.sensors import source_partitions_sensor, sync_partitions
from commons_assets.lake import Lake, instance_data_root
from commons_assets.steward import resources_for
from commons_tests.runs import materialize


def test_a_run_claims_the_instance_and_another_root_is_refused(
    lake: Lake, data_root: Path, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    sync_partitions(instance, lake)
    result = materialize(
        [corpus_texts], partition_key="essays", instance=instance, resources=resources_for(lake)
    )
    assert result.success
    assert instance_data_root(instance) == str(data_root.resolve())
    (materialization,) = result.asset_materializations_for_node("corpus_texts")
    assert materialization.metadata["data_root"].value == str(data_root.resolve())

    other = Lake(root=str(shutil.copytree(data_root / "sources", tmp_path / "other" / "sources")))
    other = Lake(root=str(tmp_path / "other"))
    refused = materialize(
        [corpus_texts],
        partition_key="essays",
        instance=instance,
        resources=resources_for(other),
        raise_on_error=False,
    )
    assert not refused.success
    assert not (tmp_path / "other" / "lake").exists()  # nothing was written for the other root
    assert instance_data_root(instance) == str(data_root.resolve())


def test_the_partition_sensor_leaves_another_roots_partitions_out(
    data_root: Path, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    sync_partitions(instance, Lake(root=str(data_root)))
    Lake(root=str(data_root)).setup_for_execution(dg.build_init_resource_context(instance=instance))
    other = shutil.copytree(data_root, tmp_path / "other")
    (other / "sources" / "texts" / "essays").rename(other / "sources" / "texts" / "renamed")
    resources = resources_for(Lake(root=str(other)))
    with (  # the UI shows the sensor's error and its cause
        pytest.raises(Exception) as raised,
        dg.build_sensor_context(instance=instance, resources=resources) as context,
    ):
        source_partitions_sensor(context)
    causes, error = [], raised.value
    while error is not None:
        causes.append(str(error))
        error = error.__cause__
    assert any("serves the data root" in cause for cause in causes)
    assert instance.get_dynamic_partitions("text_collections") == ["essays"]


def test_commons_build_refuses_a_second_root_in_a_chosen_instance(
    data_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["build", "--data", str(data_root)]) == 0
    other = shutil.copytree(
        data_root, tmp_path / "other", ignore=shutil.ignore_patterns("lake", "releases")
    )
    assert cli.main(["build", "--data", str(other)]) == 2
    assert "serves the data root" in capsys.readouterr().err
    assert not (other / "releases").exists()


def test_commons_build_from_the_repository_uses_an_ephemeral_instance_for_another_root(
    data_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """From a folder with dagster.yaml and no DAGSTER_HOME (the repository root), the build of
    another data root leaves the repository's instance alone."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(checkout)
    with dg.DagsterInstance.from_config(str(checkout)) as repository:
        repository.run_storage.set_cursor_values({"commons/data_root": str(checkout / "data")})
    assert cli.main(["build", "--data", str(data_root)]) == 0
    assert "instance: ephemeral" in capsys.readouterr().out
    with dg.DagsterInstance.from_config(str(checkout)) as repository:
        assert instance_data_root(repository) == str(checkout / "data")
        assert repository.get_dynamic_partitions("text_collections") == []
