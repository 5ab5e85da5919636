"""policy/clean.toml changes thresholds, rule families and the PII mode, and the settings in
force reach the asset's metadata."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from commons_assets.clean.quality import QUALITY_BY_KIND, GopherQuality
from commons_assets.clean.settings import SettingsError, load_clean_settings
from commons_assets.defs.clean.assets import clean_posts, clean_texts
from commons_assets.defs.sources.assets import corpus_texts, social_posts
from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.lake import Lake
from commons_assets.steward import resources_for
from commons_tests.builders import SAMPLE_DAY
from commons_tests.runs import materialize


def write_settings(root: Path, text: str) -> None:
    (root / "policy").mkdir(parents=True, exist_ok=True)
    (root / "policy" / "clean.toml").write_text(text)


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_clean_settings(tmp_path)
    assert settings.quality == QUALITY_BY_KIND
    assert (settings.pii_mode, settings.source) == ("standard", "defaults")


def test_overrides_replace_single_thresholds_and_switch_rules_off(tmp_path: Path) -> None:
    write_settings(
        tmp_path,
        """
[quality.texts.gopher_quality]
min_doc_words = 3
[quality.archives]
fineweb = false
[quality.social]
max_chars = 100
[quality.texts.gopher_repetition]
top_n_grams = [[2, 0.5]]
[pii]
mode = "strict"
""",
    )
    settings = load_clean_settings(tmp_path)
    texts = settings.quality["texts"]
    assert texts.gopher_quality == GopherQuality(min_doc_words=3, max_doc_words=2_000_000)
    assert texts.gopher_repetition.top_n_grams == ((2, 0.5),)
    assert settings.quality["archives"].fineweb is None
    assert settings.quality["archives"].c4 is not None
    assert settings.quality["social"].max_chars == 100
    assert settings.pii_mode == "strict"


@pytest.mark.parametrize(
    "text",
    [
        "[quality.books]\nmin_chars = 1",
        "[quality.texts.gopher_quality]\nmin_words = 3",
        "[quality.texts]\ncolour = 'blue'",
        "[pii]\nmode = 'paranoid'",
        "this is not toml",
    ],
)
def test_bad_settings_are_refused_with_a_reason(tmp_path: Path, text: str) -> None:
    write_settings(tmp_path, text)
    with pytest.raises(SettingsError):
        load_clean_settings(tmp_path)


def test_settings_change_what_the_asset_keeps(lake: Lake, data_root: Path, instance) -> None:
    sync_partitions(instance, lake)
    run = materialize(
        [social_posts, clean_posts],
        partition_key=SAMPLE_DAY,
        resources=resources_for(lake),
        instance=instance,
    )
    assert pl.read_parquet(lake.table_path("clean_posts", SAMPLE_DAY)).height == 2
    write_settings(data_root, "[quality.social]\nmin_chars = 6\n")  # "Hello" is 5 characters
    run = materialize(
        [clean_posts], partition_key=SAMPLE_DAY, resources=resources_for(lake), instance=instance
    )
    dropped = pl.read_parquet(lake.dropped_path("clean_posts", SAMPLE_DAY))
    assert dropped["reason"].to_list() == ["too_short"]
    [event] = run.get_asset_materialization_events()
    settings = event.materialization.metadata["settings"].value
    assert settings["source"] == "policy/clean.toml"
    assert settings["quality"]["min_chars"] == 6


def test_invalid_settings_fail_the_run_with_the_reason(
    lake: Lake, data_root: Path, instance
) -> None:
    sync_partitions(instance, lake)
    assert materialize(
        [corpus_texts], partition_key="essays", resources=resources_for(lake), instance=instance
    ).success
    write_settings(data_root, "[pii]\nmode = 'paranoid'\n")
    result = materialize(
        [clean_texts],
        partition_key="essays",
        resources=resources_for(lake),
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "paranoid" in str(failure.step_failure_data.user_failure_data.description)
