"""A steward's licence aliases (`policy/licence_aliases.toml`): the licence statements a
collection actually uses, mapped to the licence they mean, when the built-in recognition
(rights/licences.py) does not know them.

    [[alias]]
    statement = "see our website"        # this exact statement (case and spacing ignored)
    licence = "CC-BY-4.0"                # SPDX id, licence URL or rights statement
    reason = "the publisher's site says CC BY 4.0 (checked 2026-11-20)"

    [[alias]]
    pattern = '^https?://example\\.org/terms/?$'   # or a regular expression (Python re, search)
    licence = "https://creativecommons.org/licenses/by-sa/4.0/"
    reason = "example.org's terms page is CC BY-SA 4.0"

The aliases are part of the rights policy: they are fingerprinted with it into every row they
decide, and the evidence names the alias. A file Commons cannot apply fails the audit at once
(like the policy file): an alias silently ignored would leave records held, one wrongly applied
would admit them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from upath import UPath

ALIASES_FILE = Path("policy") / "licence_aliases.toml"


class AliasError(ValueError):
    """The aliases file says something Commons cannot apply."""


@dataclass(frozen=True)
class LicenceAlias:
    licence: str
    reason: str
    statement: str | None = None  # normalised: lower case, single spaces
    pattern: str | None = None
    number: int = 0  # its place in the file, for the evidence

    def matches(self, raw: str) -> bool:
        if self.statement is not None:
            return normalise(raw) == self.statement
        return self.pattern is not None and re.search(self.pattern, raw.strip()) is not None

    def label(self) -> str:
        what = f"statement {self.statement!r}" if self.statement else f"pattern {self.pattern!r}"
        return f"{ALIASES_FILE.as_posix()} alias {self.number} ({what})"


def normalise(statement: str) -> str:
    return " ".join(statement.split()).lower()


def _alias(entry: object, number: int) -> LicenceAlias:
    where = f"{ALIASES_FILE.as_posix()}: alias {number}"
    if not isinstance(entry, dict):
        raise AliasError(f"{where}: an [[alias]] table is expected")
    if unknown := set(entry) - {"statement", "pattern", "licence", "reason"}:
        raise AliasError(f"{where}: unknown keys {sorted(unknown)}")
    statement, pattern = entry.get("statement"), entry.get("pattern")
    if (statement is None) == (pattern is None):
        raise AliasError(f"{where}: give exactly one of statement or pattern")
    for key in ("statement", "pattern", "licence", "reason"):
        value = entry.get(key)
        if key in entry and (not isinstance(value, str) or not value.strip()):
            raise AliasError(f"{where}: {key} must be a non-empty string, not {value!r}")
    if "licence" not in entry or "reason" not in entry:
        raise AliasError(f"{where}: licence and reason are required")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as error:
            raise AliasError(f"{where}: pattern is not a regular expression ({error})") from error
    from commons_assets.rights.licences import classify_licence  # licences imports this module

    target = classify_licence(entry["licence"])
    if target.matched_by in ("none", "unrecognised") or target.licence_class == "unknown":
        raise AliasError(
            f"{where}: licence {entry['licence']!r} is not a licence Commons recognises"
        )
    return LicenceAlias(
        licence=entry["licence"].strip(),
        reason=entry["reason"].strip(),
        statement=normalise(statement) if statement is not None else None,
        pattern=pattern,
        number=number,
    )


def load_aliases(root: UPath) -> tuple[LicenceAlias, ...]:
    """The aliases in force (empty without a file); AliasError names what cannot be applied."""
    path = root / ALIASES_FILE
    if not path.exists():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise AliasError(f"{ALIASES_FILE.as_posix()}: {error}") from error
    if unknown := set(data) - {"alias"}:
        raise AliasError(f"{ALIASES_FILE.as_posix()}: unknown settings {sorted(unknown)}")
    entries = data.get("alias", [])
    if not isinstance(entries, list):
        raise AliasError(f"{ALIASES_FILE.as_posix()}: alias must be an array of tables")
    return tuple(_alias(entry, number) for number, entry in enumerate(entries, start=1))


def alias_for(raw: str, aliases: tuple[LicenceAlias, ...]) -> LicenceAlias | None:
    """The first alias (in file order) that names this statement."""
    return next((alias for alias in aliases if alias.matches(raw)), None)
