"""The steward's settings as one Dagster resource: the files under the data root's `policy/`
(source limits, clean rules, rights policy, dedupe), each validated by its pydantic model and
read at most once per run. An invalid file fails the step that needs it, with a message naming
the file, the key and what the key accepts; a step that does not need it is not stopped.

What a row was decided under travels on the row: the rights policy's fingerprint (`policy`),
the clean rules' notes in its provenance steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import dagster as dg
from pydantic import Field, PrivateAttr
from upath import UPath

from commons_assets.clean.quality import QualityConfig
from commons_assets.clean.settings import CleanSettings, load_clean_settings
from commons_assets.dedupe.resource import DedupeIndex
from commons_assets.dedupe.settings import DedupeConfig, load_dedupe_config
from commons_assets.lake import Lake
from commons_assets.rights.policy import RightsPolicy, load_policy
from commons_assets.settings import SettingsFileError, as_data_path, data_root
from commons_assets.sources.limits import SourceLimits, load_limits
from commons_assets.storage import LakeIOManager

T = TypeVar("T")


class StewardSettings(dg.ConfigurableResource):
    """The settings files of the lake's data root, validated once per run."""

    root: str = Field(
        default_factory=lambda: str(data_root()),
        description="Data root whose policy/ folder holds the settings (as the lake's).",
    )
    _read: dict[Any, Any] = PrivateAttr(default_factory=dict)

    @property
    def root_path(self) -> UPath:
        return as_data_path(self.root)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._read = {}  # a new run reads the files again (a steward may have changed them)

    def _once(self, key: Any, what: str, load: Callable[[], T]) -> T:
        if key not in self._read:
            try:
                self._read[key] = load()
            except SettingsFileError as error:
                raise dg.Failure(
                    description=f"Invalid {what}: {error}", allow_retries=False
                ) from error
        return self._read[key]

    def limits(self) -> SourceLimits:
        """The readers' size limits (policy/sources.toml)."""
        return self._once("limits", "limits", lambda: load_limits(self.root_path))

    def clean(self, defaults: Mapping[str, QualityConfig]) -> CleanSettings:
        """The clean rules (policy/clean.toml) over each registered kind's defaults."""
        key = ("clean", tuple(sorted(defaults)))
        return self._once(
            key, "clean settings", lambda: load_clean_settings(self.root_path, defaults)
        )

    def policy(self) -> RightsPolicy:
        """The rights policy (policy/licence_policy.toml and policy/licence_aliases.toml)."""
        return self._once("policy", "rights policy", lambda: load_policy(self.root_path))

    def dedupe(self) -> DedupeConfig:
        """The MinHash and cluster settings (policy/dedupe.toml)."""
        return self._once("dedupe", "dedupe settings", lambda: load_dedupe_config(self.root_path))


def resources_for(lake: Lake) -> dict[str, Any]:
    """The resources every Commons asset runs with, over one data root."""
    return {
        "lake": lake,
        "settings": StewardSettings(root=lake.root),
        "io_manager": LakeIOManager(lake=lake),
        "dedupe_index": DedupeIndex(lake=lake),
    }
