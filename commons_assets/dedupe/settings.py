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
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field
from upath import UPath

from commons_assets.dedupe.clusters import DedupeSettings
from commons_assets.dedupe.minhash import MinHashConfig
from commons_assets.settings import SettingsFileError, SettingsModel, read_settings_file

SETTINGS_FILE = Path("policy") / "dedupe.toml"


class DedupeSettingsError(SettingsFileError):
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


class MinHashTable(SettingsModel):
    n_grams: int | None = Field(None, gt=0)
    num_bands: int | None = Field(None, gt=0)
    rows_per_band: int | None = Field(None, gt=0)
    seed: int | None = None


class ClustersTable(SettingsModel):
    near_duplicate_jaccard: float | None = Field(None, gt=0, le=1)
    # 9 pHash chunks guarantee a shared key only up to 8 differing bits.
    image_hamming_distance: int | None = Field(None, ge=0, le=8)


class DedupeFile(SettingsModel):
    minhash: MinHashTable = MinHashTable()
    clusters: ClustersTable = ClustersTable()


def load_dedupe_config(root: UPath) -> DedupeConfig:
    read = read_settings_file(root, SETTINGS_FILE, DedupeFile, DedupeSettingsError)
    if read is None:
        return DedupeConfig()
    return DedupeConfig(
        MinHashConfig(**read.minhash.model_dump(exclude_unset=True)),
        DedupeSettings(**read.clusters.model_dump(exclude_unset=True)),
        SETTINGS_FILE.as_posix(),
    )
