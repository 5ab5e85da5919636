"""Clean-stage settings a data steward can change without code: `policy/clean.toml` under the
data root. Absent, the defaults apply (the rule sets chosen by measurement in clean/quality.py,
standard PII redaction).

    [quality.texts.gopher_quality]   # override single thresholds of a rule for a source kind
    min_doc_words = 10

    [quality.social]
    max_chars = 5000

    [quality.archives]
    preset = "fineweb"               # start from a named rule set: web (the default for pages),
                                     # fineweb, c4, curated-texts (the default for texts)
    fineweb = false                  # switch a rule family off for a kind

    [quality.texts]
    wrappers = []                    # keep distributors' wrappers (default: ["gutenberg"])

    [pii]
    mode = "strict"                  # "standard" | "strict" | "off"

    [extraction]
    decide_first = false             # extract every page, even one its site's files or a
                                     # takedown by URL already exclude (default: true)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_type_hints

from pydantic import Field, create_model
from upath import UPath

from commons_assets.clean.pii import PII_MODES
from commons_assets.clean.quality import (
    PRESETS,
    QUALITY_BY_KIND,
    C4Rules,
    FineWebRules,
    GopherQuality,
    GopherRepetition,
    QualityConfig,
)
from commons_assets.clean.wrappers import WRAPPERS
from commons_assets.settings import SettingsFileError, SettingsModel, read_settings_file

SETTINGS_FILE = Path("policy") / "clean.toml"
RULE_FAMILIES: dict[str, type] = {
    "c4": C4Rules,
    "gopher_quality": GopherQuality,
    "gopher_repetition": GopherRepetition,
    "fineweb": FineWebRules,
}


class SettingsError(SettingsFileError):
    """The settings file says something Commons cannot apply."""


@dataclass(frozen=True)
class CleanSettings:
    quality: dict[str, QualityConfig]
    pii_mode: str = "standard"
    source: str = "defaults"
    # Pages that the signals needing no page body already exclude (robots.txt, ai.txt,
    # tdmrep.json, the capture's headers, a takedown by URL) are not extracted: their evidence
    # is still read and audited.
    decide_first: bool = True


def _thresholds(family: type) -> type[SettingsModel]:
    """A table that may set any threshold of a rule family (its dataclass holds the defaults)."""
    hints = get_type_hints(family)
    fields: dict[str, Any] = {
        f.name: (hints[f.name] | None, None) for f in dataclasses.fields(family)
    }
    return create_model(f"{family.__name__}Table", __base__=SettingsModel, **fields)


RULE_TABLES = {name: _thresholds(family) for name, family in RULE_FAMILIES.items()}
FAMILY = "a table of the rule's thresholds, or false to switch the rule off"


# The allowed names come from the code (presets, wrappers, PII modes), so these models are built
# with create_model; a type checker sees their fields as Any.
PRESET: Any = Literal[tuple(PRESETS)]
WRAPPER: Any = Literal[tuple(WRAPPERS)]
PII_MODE: Any = Literal[tuple(PII_MODES)]
KIND_FIELDS: dict[str, Any] = {
    "preset": (PRESET | None, None),
    "min_chars": (int | None, None),
    "max_chars": (int | None, None),
    "wrappers": (
        tuple[WRAPPER, ...] | None,
        Field(None, description=f"a list of {sorted(WRAPPERS)}"),
    ),
    **{
        name: (table | Literal[False] | None, Field(None, description=FAMILY))
        for name, table in RULE_TABLES.items()
    },
}
# `[quality.<kind>]`: a preset to start from, then single settings over it.
KindTable: type[SettingsModel] = create_model("KindTable", __base__=SettingsModel, **KIND_FIELDS)
PiiTable: type[SettingsModel] = create_model(
    "PiiTable", __base__=SettingsModel, mode=(PII_MODE, "standard")
)
ExtractionTable: type[SettingsModel] = create_model(
    "ExtractionTable", __base__=SettingsModel, decide_first=(bool, True)
)
CleanFile: type[SettingsModel] = create_model(
    "CleanFile",
    __base__=SettingsModel,
    quality=(dict[str, KindTable], Field(default_factory=dict)),
    pii=(PiiTable, PiiTable()),
    extraction=(ExtractionTable, ExtractionTable()),
)


def _override(kind: str, base: QualityConfig, table: Any) -> QualityConfig:
    if table.preset is not None:
        base = PRESETS[table.preset]
    set_keys = table.model_fields_set
    changes: dict[str, Any] = {}
    for key in set_keys - {"preset"}:
        value = getattr(table, key)
        if key in RULE_FAMILIES:
            if value is False or value is None:
                changes[key] = None
                continue
            current = getattr(base, key) or RULE_FAMILIES[key]()
            changes[key] = dataclasses.replace(current, **value.model_dump(exclude_unset=True))
        else:
            changes[key] = value
    notes = f"{base.notes}; overridden in {SETTINGS_FILE.as_posix()}: {sorted(set_keys)}"
    return dataclasses.replace(base, notes=notes, **changes)


def load_clean_settings(
    root: UPath, defaults: Mapping[str, QualityConfig] = QUALITY_BY_KIND
) -> CleanSettings:
    """Settings from `<root>/policy/clean.toml`, or the defaults when there is none. `defaults`
    holds each registered source kind's rules (kinds.quality_defaults)."""
    read = read_settings_file(root, SETTINGS_FILE, CleanFile, SettingsError)
    if read is None:
        return CleanSettings(quality=dict(defaults))
    quality = dict(defaults)
    for kind, table in read.quality.items():  # type: ignore[attr-defined]
        if kind not in quality:
            raise SettingsError(
                f"{SETTINGS_FILE.as_posix()}: quality.{kind}: unknown source kind; use one of "
                f"{sorted(quality)}"
            )
        quality[kind] = _override(kind, quality[kind], table)
    return CleanSettings(
        quality=quality,
        pii_mode=read.pii.mode,  # type: ignore[attr-defined]
        source=SETTINGS_FILE.as_posix(),
        decide_first=read.extraction.decide_first,  # type: ignore[attr-defined]
    )
