"""A steward's licence aliases: validated strictly, applied before the built-in recognition,
fingerprinted with the policy, named in the evidence, and honoured by the release gate."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from commons_assets.build import build
from commons_assets.definitions import defs
from commons_assets.lake import Lake
from commons_assets.rights.aliases import ALIASES_FILE, AliasError, load_aliases
from commons_assets.rights.licences import classify_licence
from commons_assets.rights.policy import PolicyError, load_policy
from commons_tests.conftest import copy_sample

ALIASES = """
[[alias]]
statement = "See  our WEBSITE"
licence = "CC-BY-4.0"
reason = "the society's site says CC BY 4.0 (checked 2026-11-20)"

[[alias]]
pattern = '^https?://example\\.org/terms/?$'
licence = "https://creativecommons.org/licenses/by-nc/4.0/"
reason = "example.org's terms are CC BY-NC 4.0"
"""


def write(root: Path, text: str) -> Path:
    path = root / ALIASES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return root


def test_aliases_apply_before_the_built_in_recognition(tmp_path: Path) -> None:
    aliases = load_aliases(write(tmp_path, ALIASES))
    assert classify_licence("see our website").outcome == "HOLD"
    verdict = classify_licence("see our website", aliases)
    assert (verdict.outcome, verdict.normalised, verdict.matched_by) == (
        "INCLUDE_ATTRIB",
        "CC-BY-4.0",
        "alias",
    )
    assert "alias=1" in verdict.flags
    # An alias can say a statement is restrictive too.
    assert classify_licence("https://example.org/terms", aliases).outcome == "EXCLUDE"
    assert classify_licence("CC0-1.0", aliases).normalised == "CC0-1.0"  # others unchanged


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[alias]]\nlicence = "CC0-1.0"\nreason = "x"', "exactly one of statement or pattern"),
        (
            '[[alias]]\nstatement = "a"\npattern = "b"\nlicence = "CC0-1.0"\nreason = "x"',
            "exactly one of statement or pattern",
        ),
        ('[[alias]]\nstatement = "a"\nlicence = "whatever we like"\nreason = "x"', "recognises"),
        ('[[alias]]\npattern = "("\nlicence = "CC0-1.0"\nreason = "x"', "regular expression"),
        ('[[alias]]\nstatement = "a"\nlicence = "CC0-1.0"', "licence and reason are required"),
        ('[[alias]]\nstatement = 5\nlicence = "CC0-1.0"\nreason = "x"', "non-empty string"),
        ('alias = "no"', "array of tables"),
        ("[[alias]\n", "licence_aliases.toml"),
    ],
)
def test_an_aliases_file_that_cannot_be_applied_fails_closed(
    tmp_path: Path, text: str, problem: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(AliasError, match=problem):
        load_aliases(tmp_path)
    with pytest.raises(PolicyError, match=problem):  # and so the audit stops at once
        load_policy(tmp_path)


def test_aliases_are_fingerprinted_with_the_policy(tmp_path: Path) -> None:
    without = load_policy(tmp_path).fingerprint()
    with_aliases = load_policy(write(tmp_path, ALIASES)).fingerprint()
    changed = load_policy(write(tmp_path, ALIASES.replace("CC-BY-4.0", "CC0-1.0"))).fingerprint()
    assert len({without, with_aliases, changed}) == 3


def test_an_alias_admits_the_records_it_names_and_the_release_carries_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(copy_sample(tmp_path / "data"), ALIASES)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    lake = Lake(root=str(root))
    with dg.DagsterInstance.ephemeral() as instance:
        assert build(defs, lake, instance, echo=lambda _: None)
    audit = pl.read_parquet(lake.table_path("rights_texts", "community-writing"))
    row = audit.filter(pl.col("source_id") == "orchard-notes").row(0, named=True)
    assert (row["decision"], row["licence"]) == ("INCLUDE_ATTRIB", "CC-BY-4.0")
    (statement,) = [e for e in row["evidence"] if e["channel"] == "licence"]
    assert "licence_aliases.toml alias 1" in statement["verdict"]
    assert row["policy"] == load_policy(root).fingerprint()
    releases = root / "releases"
    release = releases / (releases / "LATEST").read_text().strip()
    published = pl.read_parquet(release / "text" / "*.parquet")
    assert "orchard-notes" in set(published["source_id"])
