"""Dedupe settings a steward can change without code: `policy/dedupe.toml` under the data root.

    [minhash]                 # FineWeb's setting by default
    n_grams = 5
    num_bands = 14
    rows_per_band = 8
    seed = 1

    [clusters]
    near_duplicate_jaccard = 0.8
    image_hamming_distance = 8

Changing [minhash] changes every signature: re-materialize the signature assets; the index then
re-indexes each partition whose file changed. Changing [clusters] re-confirms all pairs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commons_assets.dedupe.clusters import DedupeSettings
from commons_assets.dedupe.minhash import MinHashConfig
from commons_assets.settings import wrong_types

SETTINGS_FILE = Path("policy") / "dedupe.toml"


class DedupeSettingsError(ValueError):
    """The settings file says something Commons cannot apply."""


@dataclass(frozen=True)
class DedupeConfig:
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    clusters: DedupeSettings = field(default_factory=DedupeSettings)
    source: str = "defaults"

    def summary(self) -> dict[str, object]:
        return {
            "source": self.source,
            "minhash": dataclasses.asdict(self.minhash),
            "clusters": dataclasses.asdict(self.clusters),
        }

    def fingerprint(self) -> str:
        data = {
            "minhash": dataclasses.asdict(self.minhash),
            "clusters": dataclasses.asdict(self.clusters),
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _section(data: dict, name: str, cls: type) -> object:
    values = data.get(name, {})
    if not isinstance(values, dict):
        raise DedupeSettingsError(f"[{name}] must be a table")
    known = {f.name for f in dataclasses.fields(cls)}
    if unknown := set(values) - known:
        raise DedupeSettingsError(f"[{name}]: unknown settings {sorted(unknown)}")
    if wrong := wrong_types(cls(), values):
        raise DedupeSettingsError(f"[{name}] {wrong[0]}")
    return cls(**values)


def load_dedupe_config(root: Path) -> DedupeConfig:
    path = root / SETTINGS_FILE
    if not path.exists():
        return DedupeConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise DedupeSettingsError(f"{SETTINGS_FILE.as_posix()}: {error}") from error
    try:
        return _config(data)
    except DedupeSettingsError as error:  # every message names the file it is about
        raise DedupeSettingsError(f"{SETTINGS_FILE.as_posix()}: {error}") from error


def _config(data: dict[str, Any]) -> DedupeConfig:
    if unknown := set(data) - {"minhash", "clusters"}:
        raise DedupeSettingsError(f"unknown sections {sorted(unknown)}")
    config = DedupeConfig(
        _section(data, "minhash", MinHashConfig),
        _section(data, "clusters", DedupeSettings),
        SETTINGS_FILE.as_posix(),
    )
    if not 0 < config.clusters.near_duplicate_jaccard <= 1:
        raise DedupeSettingsError("near_duplicate_jaccard must be in (0, 1]")
    if not 0 <= config.clusters.image_hamming_distance <= 8:
        # 9 pHash chunks guarantee a shared key only up to 8 differing bits.
        raise DedupeSettingsError("image_hamming_distance must be between 0 and 8")
    return config
