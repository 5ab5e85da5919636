"""The registry of source kinds: adding a kind is one reader plus one registry entry.

A toy kind, `notes` (plain-text files with a licence line, one partition per folder), is
registered beside the four real kinds and built end to end by the same definitions factory the
code location uses: its source, clean, audit, checks and signatures assets exist, its notes are
deduplicated with the other kinds and published in the release with their lineage.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from commons_assets import __version__
from commons_assets.build import build
from commons_assets.clean.quality import QualityConfig
from commons_assets.definitions import build_defs
from commons_assets.kinds import KINDS, SourceKind, documents_of
from commons_assets.lake import Lake
from commons_assets.records import PartitionRead, record_id, sha256_hex, steps
from commons_assets.sources import layout
from commons_assets.sources.limits import SourceLimits
from commons_tests.conftest import copy_sample

NOTES = "notes"


def read_notes(
    lake: Lake, key: str, folder: Path | None, limits: SourceLimits, read: PartitionRead
) -> PartitionRead:
    """The toy reader: each `*.txt` is a note whose first line is `Licence: <SPDX>`; it fills
    the step's `read` (which spools what it keeps)."""
    assert folder is not None
    for path in sorted(folder.glob("*.txt")):
        source_file = lake.relative(path)
        first, _, text = path.read_text(encoding="utf-8").partition("\n")
        if not first.startswith("Licence: "):
            read.quarantine(source_file, "no_licence_line", "first line is not `Licence: …`")
            continue
        read.keep(
            {
                "id": record_id(NOTES, f"{key}/{path.stem}", sha256_hex(text)),
                "source_id": path.stem,
                "source_uri": source_file,
                "record_role": "document",
                "text": text,
                "licence_raw": first.removeprefix("Licence: ").strip(),
                "attribution": "the toy kind's test",
                "consent": [],
                "sha256": sha256_hex(text),
                "provenance": {
                    "source_file": source_file,
                    "steps": steps(("read_notes", f"commons {__version__}")),
                },
            }
        )
    return read


TOY = SourceKind(
    name=NOTES,
    partitions=dg.DynamicPartitionsDefinition(name=NOTES),
    source_asset="field_notes",
    suffix=NOTES,
    locate=lambda sources: layout.collection_folders(sources, NOTES),
    read=read_notes,
    clean=documents_of(NOTES),
    quality=QualityConfig(min_chars=20, notes="toy notes: length only"),
    noun="field notes",
    source_description="Field notes, one partition per folder in `sources/notes/`.",
    clean_description="Field notes normalised and language-identified.",
)

OPEN_NOTE = (
    "The heron returned to the mill pond this morning and stood for an hour in the shallows "
    "by the old sluice gate, watching the water."
)


@pytest.fixture
def sample_with_notes(tmp_path: Path) -> Lake:
    root = copy_sample(tmp_path / "data")
    folder = root / "sources" / NOTES / "pond-diary"
    folder.mkdir(parents=True)
    (folder / "heron.txt").write_text(f"Licence: CC0-1.0\n{OPEN_NOTE}\n", encoding="utf-8")
    (folder / "copy-of-heron.txt").write_text(f"Licence: CC-BY-4.0\n{OPEN_NOTE}\n")
    (folder / "closed.txt").write_text("Licence: All rights reserved\n" + OPEN_NOTE[::-1])
    (folder / "broken.txt").write_text("no licence line here\n")
    return Lake(root=str(root))


def test_a_registered_toy_kind_is_built_end_to_end(
    sample_with_notes: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    kinds = [*KINDS, TOY]
    defs = build_defs(kinds)
    names = {
        a.key.to_user_string() for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)
    }
    assert {"field_notes", "clean_notes", "rights_notes", "signatures_notes"} <= names
    checks = {key.name for c in defs.asset_checks or [] for key in c.check_keys}
    assert "admitted_records_are_admissible" in checks
    assert defs.resolve_job_def("reaudit_notes").name == "reaudit_notes"

    lake = sample_with_notes
    lines: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance:
        assert build(defs, lake, instance, echo=lines.append, kinds=kinds), "\n".join(lines)
        assert instance.get_dynamic_partitions(NOTES) == ["pond-diary"]

    assert "ok    field_notes[pond-diary]" in "\n".join(lines)
    quarantine = pl.read_parquet(lake.quarantine_path("field_notes", "pond-diary"))
    assert quarantine["reason"].to_list() == ["no_licence_line"]
    audit = pl.read_parquet(lake.table_path("rights_notes", "pond-diary"))
    decisions = dict(audit.select("source_id", "decision").iter_rows())
    assert decisions["heron"] == "INCLUDE"
    assert decisions["copy-of-heron"] == "INCLUDE_ATTRIB"
    assert decisions["closed"] in ("EXCLUDE", "HOLD")

    clusters = pl.read_parquet(lake.table_path("dedup_clusters", "all"))
    notes = clusters.filter(pl.col("source_kind") == NOTES)
    assert sorted(notes["role"].to_list()) == ["duplicate", "survivor"]

    version = (lake.releases / "LATEST").read_text().strip()
    text = pl.read_parquet(lake.releases / version / "text" / "*.parquet")
    published = text.filter(pl.col("source_kind") == NOTES)
    # The public-domain copy survives its CC BY duplicate (most permissive licence first).
    assert published["source_id"].to_list() == ["heron"]
    assert published["licence_class"].to_list() == ["public-domain"]
    # The other kinds are published as before.
    assert set(text["source_kind"]) >= {"archives", "texts", NOTES}


def test_settings_name_the_registered_kinds(sample_with_notes: Lake) -> None:
    """`[quality.notes]` is accepted once the kind is registered, and refused otherwise."""
    from commons_assets.clean.settings import SettingsError, load_clean_settings
    from commons_assets.kinds import quality_defaults

    (sample_with_notes.root_path / "policy" / "clean.toml").write_text(
        "[quality.notes]\nmin_chars = 50\n"
    )
    settings = load_clean_settings(sample_with_notes.root_path, quality_defaults([*KINDS, TOY]))
    assert settings.quality[NOTES] == dataclasses.replace(
        TOY.quality, min_chars=50, notes=settings.quality[NOTES].notes
    )
    with pytest.raises(SettingsError, match="unknown source kind"):
        load_clean_settings(sample_with_notes.root_path, quality_defaults(KINDS))
