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
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from commons_assets.settings import wrong_types

SETTINGS_FILE = Path("policy") / "clean.toml"
RULE_FAMILIES: dict[str, type] = {
    "c4": C4Rules,
    "gopher_quality": GopherQuality,
    "gopher_repetition": GopherRepetition,
    "fineweb": FineWebRules,
}
LENGTH_FIELDS = ("min_chars", "max_chars")


class SettingsError(ValueError):
    """The settings file says something Commons cannot apply."""


@dataclass(frozen=True)
class CleanSettings:
    quality: dict[str, QualityConfig]
    pii_mode: str = "standard"
    source: str = "defaults"


def _tuples(value: Any) -> Any:
    """TOML arrays to the tuples the frozen rule dataclasses use."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


def _override(kind: str, base: QualityConfig, overrides: dict[str, Any]) -> QualityConfig:
    changes: dict[str, Any] = {}
    if "preset" in overrides:
        preset = overrides["preset"]
        if preset not in PRESETS:
            raise SettingsError(f"quality.{kind}.preset {preset!r}: use one of {sorted(PRESETS)}")
        base = PRESETS[preset]
    for key, value in overrides.items():
        if key == "preset":
            continue
        if key in RULE_FAMILIES:
            if value is False:
                changes[key] = None
                continue
            if not isinstance(value, dict):
                raise SettingsError(f"quality.{kind}.{key} must be a table or false")
            current = getattr(base, key) or RULE_FAMILIES[key]()
            known = {f.name for f in dataclasses.fields(current)}
            if unknown := set(value) - known:
                raise SettingsError(f"quality.{kind}.{key}: unknown thresholds {sorted(unknown)}")
            if wrong := wrong_types(current, value):
                raise SettingsError(f"quality.{kind}.{key}.{wrong[0]}")
            changes[key] = dataclasses.replace(
                current, **{name: _tuples(v) for name, v in value.items()}
            )
        elif key in LENGTH_FIELDS:
            if not isinstance(value, int) or isinstance(value, bool):
                raise SettingsError(f"quality.{kind}.{key} must be an integer, not {value!r}")
            changes[key] = value
        elif key == "wrappers":
            if not isinstance(value, list) or any(name not in WRAPPERS for name in value):
                raise SettingsError(
                    f"quality.{kind}.wrappers must be a list of {sorted(WRAPPERS)}, not {value!r}"
                )
            changes[key] = tuple(value)
        else:
            raise SettingsError(f"quality.{kind}: unknown setting {key!r}")
    notes = f"{base.notes}; overridden in {SETTINGS_FILE.as_posix()}: {sorted(overrides)}"
    return dataclasses.replace(base, notes=notes, **changes)


def load_clean_settings(
    root: Path, defaults: Mapping[str, QualityConfig] = QUALITY_BY_KIND
) -> CleanSettings:
    """Settings from `<root>/policy/clean.toml`, or the defaults when there is none. `defaults`
    holds each registered source kind's rules (kinds.quality_defaults)."""
    path = root / SETTINGS_FILE
    if not path.exists():
        return CleanSettings(quality=dict(defaults))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{SETTINGS_FILE.as_posix()}: {error}") from error
    try:
        return _settings(data, defaults)
    except SettingsError as error:  # every message names the file it is about
        raise SettingsError(f"{SETTINGS_FILE.as_posix()}: {error}") from error


def _settings(data: dict[str, Any], defaults: Mapping[str, QualityConfig]) -> CleanSettings:
    quality = dict(defaults)
    tables = data.get("quality", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise SettingsError("quality must be a table of tables ([quality.archives], …)")
    if not isinstance(data.get("pii", {}), dict):
        raise SettingsError("pii must be a table ([pii])")
    for kind, overrides in tables.items():
        if kind not in quality:
            raise SettingsError(
                f"quality.{kind}: unknown source kind; use one of {sorted(quality)}"
            )
        quality[kind] = _override(kind, quality[kind], overrides)
    mode = data.get("pii", {}).get("mode", "standard")
    if mode not in PII_MODES:
        raise SettingsError(f"pii.mode {mode!r}: use one of {PII_MODES}")
    return CleanSettings(quality=quality, pii_mode=mode, source=SETTINGS_FILE.as_posix())
