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
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib.resources import files
from pathlib import Path

from commons_assets.rights.aliases import AliasError, LicenceAlias, load_aliases

POLICY_FILE = Path("policy") / "licence_policy.toml"
DECISIONS = ("HOLD", "EXCLUDE")
NEVER_CAPTURED = (*DECISIONS, "ignore")
PRODUCT_TOKEN = re.compile(r"[A-Za-z0-9_-]+")  # RFC 9309 §2.2.1, and digits (AI2Bot)


class PolicyError(ValueError):
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


def load_policy(root: Path) -> RightsPolicy:
    """The policy file's settings (defaults without one) with the steward's licence aliases."""
    try:
        aliases = load_aliases(root)
    except AliasError as error:
        raise PolicyError(str(error)) from error
    return replace(_policy_file(root), licence_aliases=aliases)


def _policy_file(root: Path) -> RightsPolicy:
    path = root / POLICY_FILE
    if not path.exists():
        return RightsPolicy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PolicyError(f"{POLICY_FILE.as_posix()}: {error}") from error
    where = POLICY_FILE.as_posix()
    if unknown := set(data) - set(SETTINGS):
        raise PolicyError(f"{where}: unknown settings {sorted(unknown)}")
    for key, value in data.items():
        if problem := SETTINGS[key](value):
            raise PolicyError(f"{where}: {key} must be {problem}, not {value!r}")
    if "extra_training_tokens" in data:
        data["extra_training_tokens"] = tuple(data["extra_training_tokens"])
    return RightsPolicy(**data, source=where)


def _one_of(choices: tuple[str, ...]) -> Callable[[object], str | None]:
    return lambda value: None if value in choices else f"one of {', '.join(choices)}"


def _boolean(value: object) -> str | None:
    # TOML has true and false; "no" or 0 must not count as anything (a wrong type fails).
    return None if isinstance(value, bool) else "true or false"


def _token(value: object) -> str | None:
    valid = isinstance(value, str) and PRODUCT_TOKEN.fullmatch(value)
    return None if valid else "a product token (letters, digits, '_' and '-')"


def _tokens(value: object) -> str | None:
    valid = isinstance(value, list) and all(_token(item) is None for item in value)
    return None if valid else 'a list of product tokens, e.g. ["GPTBot"]'


# Each setting's check: None when the value is usable, else what it must be.
SETTINGS: dict[str, Callable[[object], str | None]] = {
    "crawler_token": _token,
    "legacy_labels": _boolean,
    "extra_training_tokens": _tokens,
    "bhl_allow_list": _boolean,
    "robots_unreachable": _one_of(DECISIONS),
    "robots_never_captured": _one_of(NEVER_CAPTURED),
}
