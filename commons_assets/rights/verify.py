"""Re-verification, from a record's own evidence alone, that it may be published: the blocking
checks run this over every admitted audit row and over every row of a staged release, so a bug
in the decision code, a hand-edited file or a takedown filed after the audit cannot slip a
forbidden record through.

The `decision`, `gate` and recorded verdicts are not trusted: every signal whose raw value can be
read again is read again with the same parsers the audit uses (licence statements, aipref
Content-Usage and Content-Signal, noai directives, user intents, the effective TDM reservation).
Site files (robots.txt, ai.txt, tdmrep.json) are not in the row: a forbidding recorded verdict
fails the row, and when the caller passes the site files that govern the page (the captures
current when it was fetched, from the site_policies table) their evidence is recomputed and
the row's must name the same captures, so evidence taken from another capture (a page judged
by its publication date) fails the row too. Works on an audit row (`evidence`) and on a release
row (`consent` plus `licence_evidence`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from commons_assets.rights import aipref, intents
from commons_assets.rights.audit import (
    ADMITTED,
    CONSENTED_TIER,
    EXCLUDE,
    REVIEW_CHANNEL,
    SiteFiles,
    Takedown,
    site_file_evidence,
    takedown_hits,
)
from commons_assets.rights.licences import classify_licence, classify_licences
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.reviews import Review, review_for

ADMISSIBLE_CLASSES = ("public-domain", "permissive", "share-alike")
FORBIDDING_VERDICTS = ("disallowed", "crawl disallowed", "reserved", "unreachable", "matched")
LICENCE_CHANNEL = "licence"


def _signals(row: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """(consent and opt-out signals, licence statements) of an audit row or a release row."""
    if row.get("evidence") is not None:
        evidence = list(row["evidence"])
    else:
        evidence = [*(row.get("consent") or []), *(row.get("licence_evidence") or [])]
    signals = [e for e in evidence if e.get("channel") != LICENCE_CHANNEL]
    statements = [e["raw"] for e in evidence if e.get("channel") == LICENCE_CHANNEL and e["raw"]]
    if not statements and row.get("licence_raw"):
        statements = [row["licence_raw"]]
    return signals, statements


def _held_signal(entry: dict[str, Any], policy: RightsPolicy | None) -> str | None:
    """Why this signal holds a record for a steward (a review in force may admit it)."""
    channel = entry.get("channel") or ""
    verdict = (entry.get("verdict") or "").lower()
    raw = entry.get("raw") or ""
    if channel == "robots.txt" and verdict.startswith("unreachable"):
        return f"robots.txt unreachable ({raw})"
    ignored = policy is not None and policy.robots_never_captured == "ignore"
    if channel == "robots.txt" and not raw and verdict.startswith("never captured") and not ignored:
        return "robots.txt never captured (policy robots_never_captured)"
    if channel in ("http:content-usage", "robots.txt:content-usage") and raw:
        preference = aipref.parse_content_usage(raw)
        legacy = policy.legacy_labels if policy is not None else True  # the stricter reading
        if (
            legacy
            and preference.legacy_disallow
            and preference.train_ai == aipref.UNKNOWN
            and preference.credit_exception
        ):
            return (
                f"{channel} {raw!r}: a legacy label with a credit exception (policy legacy_labels)"
            )
    return None


def _signal_problem(entry: dict[str, Any], legacy_labels: bool) -> str | None:
    """Why this one signal forbids publication, read again from its raw value where possible."""
    channel = entry.get("channel") or ""
    raw = entry.get("raw") or ""
    verdict = (entry.get("verdict") or "").lower()
    if channel.startswith("takedown:"):
        return f"takedown {channel.split(':', 1)[1]}={raw}"
    if channel == "robots.txt" and verdict.startswith("unreachable"):
        return None  # held, not forbidden: _held_signal
    if channel in ("http:content-usage", "robots.txt:content-usage"):
        preference = aipref.parse_content_usage(raw)
        if preference.train_ai == aipref.DISALLOWED:
            return f"{channel} {raw!r} disallows train-ai"
        if (
            legacy_labels
            and preference.legacy_disallow
            and preference.train_ai == aipref.UNKNOWN
            and not preference.credit_exception
        ):
            return f"{channel} {raw!r}: a legacy label disallows AI use (policy legacy_labels)"
    elif channel in ("http:content-signal", "robots.txt:content-signal"):
        if aipref.parse_content_signal(raw) == aipref.DISALLOWED:
            return f"{channel} {raw!r} says ai-train=no"
    elif channel in ("html:meta-robots", "http:x-robots-tag"):
        if {token.strip().lower() for token in raw.split(",")} & {"noai", "noimageai"}:
            return f"{channel} {raw!r} is a noai directive"
    elif channel == "bluesky:user-intents":
        declared = intents.parse_declaration(raw)
        if declared.synthetic is False or declared.bulk is False:
            return f"author intents refuse (synthetic={declared.synthetic} bulk={declared.bulk})"
    elif channel == "tdmrep:effective" and raw.strip() == "1":
        return f"TDM rights reserved ({entry.get('verdict')})"
    if verdict.startswith(FORBIDDING_VERDICTS):
        return f"evidence {channel}={entry.get('raw')!r} says {entry.get('verdict')}"
    return None


def _consents_to_both(signals: list[dict[str, Any]]) -> bool:
    for entry in signals:
        if entry.get("channel") == "bluesky:user-intents" and entry.get("raw"):
            declared = intents.parse_declaration(entry["raw"])
            if declared.synthetic is True and declared.bulk is True:
                return True
    return False


def _licence_problems(
    row: dict[str, Any], statements: list[str], policy: RightsPolicy | None
) -> list[str]:
    if not statements:
        return ["no licence statement and not in the consented tier"]
    aliases = policy.licence_aliases if policy is not None else ()
    verdict = (
        classify_licence(statements[0], aliases)
        if len(statements) == 1
        else classify_licences(statements, aliases)
    )
    licence_class, outcome = verdict.licence_class, verdict.outcome
    if policy is not None and policy.bhl_allow_list and "nkc_equivalent" in verdict.flags:
        licence_class, outcome = "public-domain", ADMITTED[0]  # the policy's own rule
    found = []
    if outcome not in ADMITTED or licence_class not in ADMISSIBLE_CLASSES:
        stated = " + ".join(statements)
        found.append(f"licence {stated!r} classifies as {outcome} ({licence_class})")
    recorded = row.get("licence_class")
    if recorded != licence_class:
        found.append(f"recorded licence class {recorded} but the statement says {licence_class}")
    return found


def _review(
    row: dict[str, Any], signals: list[dict[str, Any]], reviews: list[Review] | None
) -> tuple[list[str], list[str] | None]:
    """(problems, the licence a steward's review determined) for a row a review decided; the
    review must still be in force (the same decision in today's review files)."""
    entries = [e for e in signals if e.get("channel") == REVIEW_CHANNEL]
    if not entries:
        return [], None
    entry = entries[-1]
    if entry.get("raw") == "exclude":
        return [f"a steward review excludes it ({entry.get('location')})"], None
    statement = [entry["raw"]] if entry.get("raw") else []
    if reviews is not None:
        current = review_for(row, reviews)
        if current is None or current.decision != "include" or current.licence != entry["raw"]:
            return [f"the review that admitted it ({entry.get('location')}) is not in force"], (
                statement
            )
    return [], statement


SITE_FILES = ("robots.txt", "ai.txt", "tdmrep.json")


def _site_file(channel: str) -> str | None:
    """The site file an evidence channel comes from (robots.txt:content-usage -> robots.txt)."""
    file = channel.split(":", 1)[0]
    return file if file in SITE_FILES else None


def site_file_problems(
    row: dict[str, Any], signals: list[dict[str, Any]], site: SiteFiles, policy: RightsPolicy
) -> list[str]:
    """Why a page's site-file evidence is not that of the files governing it: each file's
    evidence must name the governing capture (or, like it, none), and what those files forbid
    under the policy forbids the page whatever the row recorded."""
    expected, findings = site_file_evidence(row, site, policy)

    def captures(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
        named: dict[str, set[str]] = {}
        for entry in entries:
            if file := _site_file(entry.get("channel") or ""):
                named.setdefault(file, set()).add(entry.get("location") or "")
        return {file: sorted(locations) for file, locations in named.items()}

    recorded, governing = captures(signals), captures(expected)

    def named(locations: list[str] | None) -> str:
        return " + ".join(locations or []) or "no capture"

    found = [
        f"{file} evidence not from the capture current at the fetch: names "
        f"{named(recorded.get(file))}; governing: {named(governing.get(file))}"
        for file in SITE_FILES
        if recorded.get(file) != governing.get(file)
    ]
    found += [
        f"its governing site files: {reason}" for outcome, reason in findings if outcome == EXCLUDE
    ]
    return found


def problems(
    row: dict[str, Any],
    takedowns: Iterable[Takedown],
    tier: str | None = None,
    policy: RightsPolicy | None = None,
    reviews: list[Review] | None = None,
    site: SiteFiles | None = None,
) -> list[str]:
    """Why this row must not be published (empty when it may). `tier` is where the row is
    headed (default: the row's own `tier`); `policy` supplies the rules that widen or narrow
    what is admitted (the BHL allow list, legacy aipref labels); `reviews` are the steward
    decisions in force (a row admitted by a review that was since withdrawn is refused);
    `site` are the site files governing a page (`site_file_problems`)."""
    found: list[str] = []
    if row.get("decision") not in ADMITTED:
        found.append(f"decision is {row.get('decision')}")
    signals, statements = _signals(row)
    legacy = policy.legacy_labels if policy is not None else True  # the stricter reading
    found += [problem for entry in signals if (problem := _signal_problem(entry, legacy))]
    if site is not None and row.get("source_kind") == "archives":
        found += site_file_problems(row, signals, site, policy or RightsPolicy())
    review_problems, determined = _review(row, signals, reviews)
    found += review_problems
    if determined is None or review_problems:  # only a review in force admits a held record
        found += [held for entry in signals if (held := _held_signal(entry, policy))]
    if (tier or row.get("tier")) == CONSENTED_TIER:
        if not _consents_to_both(signals):
            found.append("consented tier without the author's consent to both uses")
    else:
        # A steward's licence determination stands in for the record's own statements.
        found += _licence_problems(row, statements if determined is None else determined, policy)
    found += [f"takedown {t.match}={t.value} ({t.source})" for t in takedown_hits(row, takedowns)]
    return list(dict.fromkeys(found))  # one line per distinct problem, in order
