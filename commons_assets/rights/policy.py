"""The rights policy in force: `policy/licence_policy.toml` under the data root, conservative
defaults when absent (CONSENT_AND_LICENCES.md section (a): every [policy] choice is a setting).

    crawler_token = "CommonsBot"   # our product token, for robots.txt group selection
    legacy_labels = true           # read old aipref labels (train-genai, ai, tdm, …) = n as opt-out
    extra_training_tokens = []     # more AI-training product tokens whose full block opts out
    bhl_allow_list = false         # "No known copyright restrictions…" → INCLUDE instead of HOLD
    robots_unreachable = "HOLD"    # robots.txt answered 5xx: HOLD (retry) or EXCLUDE
    robots_never_captured = "HOLD" # no capture of a page's robots.txt: HOLD, EXCLUDE or ignore
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from upath import UPath

from commons_assets.rights.aliases import AliasError, LicenceAlias, load_aliases
from commons_assets.settings import SettingsFileError, SettingsModel, read_settings_file

POLICY_FILE = Path("policy") / "licence_policy.toml"
PRODUCT_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")  # RFC 9309 §2.2.1, and digits (AI2Bot)


class PolicyError(SettingsFileError):
    """The policy file says something Commons cannot apply."""


@cache
def training_tokens_from_list() -> tuple[str, ...]:
    """AI-training product tokens from the shipped ai.robots.txt-derived list."""
    data = json.loads(files("commons_assets.rights").joinpath("ai_crawlers.json").read_text())
    return tuple(sorted(t for t, entry in data["tokens"].items() if entry["training"]))


@dataclass(frozen=True)
class RightsPolicy:
    crawler_token: str = "CommonsBot"
    legacy_labels: bool = True
    extra_training_tokens: tuple[str, ...] = ()
    bhl_allow_list: bool = False
    robots_unreachable: str = "HOLD"
    # A crawler that respects robots.txt fetched it before the page; an archive without that
    # capture cannot show that the site did not opt out of AI training (a full block of GPTBot,
    # a Content-Signal line), so its pages wait for a steward or a capture. `ignore` reads a
    # missing capture as no signal (for archives made without robots.txt, e.g. of one's own site).
    robots_never_captured: str = "HOLD"
    # policy/licence_aliases.toml: part of the policy, so its fingerprint covers them
    licence_aliases: tuple[LicenceAlias, ...] = ()
    source: str = "defaults"
    training_tokens: tuple[str, ...] = field(default_factory=training_tokens_from_list)

    def all_training_tokens(self) -> tuple[str, ...]:
        return tuple(sorted({*self.training_tokens, *self.extra_training_tokens}))

    def summary(self) -> dict[str, object]:
        """The policy as recorded in outputs (tokens list shortened to its size and hash)."""
        data = asdict(self)
        tokens = self.all_training_tokens()
        data["training_tokens"] = {
            "count": len(tokens),
            "sha256": hashlib.sha256("\n".join(tokens).encode()).hexdigest()[:16],
        }
        return data

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def load_policy(root: UPath) -> RightsPolicy:
    """The policy file's settings (defaults without one) with the steward's licence aliases."""
    try:
        aliases = load_aliases(root)
    except AliasError as error:
        raise PolicyError(str(error)) from error
    return replace(_policy_file(root), licence_aliases=aliases)


ProductToken = Annotated[str, Field(pattern=PRODUCT_TOKEN.pattern)]


class PolicyFile(SettingsModel):
    """What `policy/licence_policy.toml` may set (RightsPolicy holds the defaults)."""

    crawler_token: ProductToken | None = Field(
        None, description="a product token (letters, digits, '_' and '-')"
    )
    legacy_labels: bool | None = None
    extra_training_tokens: tuple[ProductToken, ...] | None = Field(
        None, description='a list of product tokens, e.g. ["GPTBot"]'
    )
    bhl_allow_list: bool | None = None
    robots_unreachable: Literal["HOLD", "EXCLUDE"] | None = None
    robots_never_captured: Literal["HOLD", "EXCLUDE", "ignore"] | None = None


def _policy_file(root: UPath) -> RightsPolicy:
    read = read_settings_file(root, POLICY_FILE, PolicyFile, PolicyError)
    if read is None:
        return RightsPolicy()
    return RightsPolicy(**read.model_dump(exclude_unset=True), source=POLICY_FILE.as_posix())
