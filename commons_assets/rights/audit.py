"""The rights decision for one record (CONSENT_AND_LICENCES.md section (a)): gates in order,
the first decisive gate wins, and every signal considered is kept as evidence.

1. takedown      a takedown request or deletion names the record          → EXCLUDE
2. opt-out       any disallow for AI training from any channel            → EXCLUDE
                 (a CC-signals credit exception, or robots.txt unreachable → HOLD)
   review        a steward's decision (policy/reviews) includes under its licence determination
                 or excludes; it never overrides a takedown or an opt-out
3. licence       the licence's class decides; with no licence, explicit consent for both
                 generative training and bulk redistribution admits to the consented tier
4.               an explicit allow never licenses (it only removes an opt-out)
5. default       nothing known                                            → EXCLUDE
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from commons_assets.records import Signal
from commons_assets.rights import aipref, intents, tdmrep
from commons_assets.rights.aliases import alias_for
from commons_assets.rights.licences import (
    EXCLUDE,
    HOLD,
    INCLUDE,
    INCLUDE_ATTRIB,
    RESTRICTIVENESS,
    LicenceVerdict,
    classify_licence,
    classify_licences,
)
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.reviews import Review, review_for
from commons_assets.rights.robots import RobotsTxt

OPEN_TIER = "open"
CONSENTED_TIER = "consented"


@dataclass(frozen=True)
class SiteFiles:
    """The site-level files a crawl fetched for one host (None: not fetched, no signal)."""

    robots: RobotsTxt | None = None
    ai_txt: RobotsTxt | None = None
    tdmrep_json: str | None = None
    locations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Takedown:
    match: str  # url | id | sha256 | did
    value: str
    reason: str = ""
    requested_at: str = ""
    scope: str = "work"
    source: str = ""


@dataclass
class Decision:
    decision: str
    gate: str
    reason: str
    evidence: list[Signal]
    licence: LicenceVerdict | None = None
    tier: str = OPEN_TIER


def _evidence(channel: str, raw: object, verdict: str, location: str | None) -> Signal:
    return {
        "channel": channel,
        "raw": None if raw is None else str(raw),
        "verdict": verdict,
        "location": location,
    }


def _did_of(record: Mapping[str, Any]) -> str | None:
    source_id = record.get("source_id") or ""
    if source_id.startswith("at://"):
        return source_id[5:].split("/", 1)[0]
    return None


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = set(string.ascii_letters + string.digits + "-._~")


def _percent(part: str) -> str:
    """Upper-case escapes, and unescape unreserved characters (RFC 3986 §6.2.2.1-2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group()[1:], 16))
        return char if char in _UNRESERVED else match.group().upper()

    return _PERCENT.sub(fix, part)


@lru_cache(maxsize=65_536)
def normalise_url(value: str) -> str:
    """The form in which a takedown's URL and a record's URL are compared: surrounding space
    removed; for http(s), scheme and host in lower case, the default port dropped, escapes
    normalised (RFC 3986 §6.2.2), an empty path as `/`, a trailing `/` dropped, query
    parameters sorted, the fragment dropped. Other identifiers (at:// URIs, ids) only lose
    their surrounding space. A request so matches more, never less, than its exact string."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return value
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return value
    host = parts.hostname.lower()
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    path = _percent(parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = "&".join(sorted(_percent(p) for p in parts.query.split("&") if p))
    return urlunsplit((scheme, host, path, query, ""))


def takedown_hits(record: Mapping[str, Any], takedowns: Iterable[Takedown]) -> list[Takedown]:
    """Requests that name this record by URL (normalised: `normalise_url`), id, content hash or
    author DID."""
    urls = {record.get("source_uri"), record.get("source_id")} - {None}
    keys = {
        "url": {normalise_url(url) for url in urls},
        "id": {record.get("id"), record.get("source_id")},
        "sha256": {record.get("sha256"), record.get("source_sha256")},
        "did": {
            _did_of(record),
            record.get("attribution") if record.get("source_kind") == "social" else None,
        },
    }
    return [
        t
        for t in takedowns
        if (normalise_url(t.value) if t.match == "url" else t.value.strip())
        in (keys.get(t.match) or set()) - {None}  # type: ignore[operator]
    ]


# --- gate 2: opt-outs -------------------------------------------------------------------------


def _opt_outs(
    record: Mapping[str, Any],
    site: SiteFiles | None,
    policy: RightsPolicy,
    evidence: list[Signal],
) -> tuple[str | None, str]:
    """(EXCLUDE | HOLD | None, reason), appending every signal considered to `evidence`."""
    findings: list[tuple[str, str]] = []
    url = record.get("source_uri") or ""
    usage_verdicts: list[str] = []

    for signal in record.get("consent") or []:
        channel, raw, location = signal["channel"], signal["raw"], signal.get("location")
        if channel == "http:content-usage":
            preference = aipref.parse_content_usage(raw)
            usage_verdicts.append(preference.train_ai)
            verdict = preference.train_ai
            if preference.parse_error:
                verdict = f"unknown (parse error: {preference.parse_error})"
            evidence.append(_evidence(channel, raw, verdict, location))
            if (
                policy.legacy_labels
                and preference.legacy_disallow
                and preference.train_ai == aipref.UNKNOWN
            ):
                outcome = HOLD if preference.credit_exception else EXCLUDE
                findings.append((outcome, f"legacy aipref label disallows AI use: {raw}"))
        elif channel == "http:content-signal":
            verdict = aipref.parse_content_signal(raw)
            evidence.append(_evidence(channel, raw, verdict, location))
            if verdict == aipref.DISALLOWED:
                findings.append((EXCLUDE, f"Content-Signal ai-train=no: {raw}"))
        elif channel in ("html:meta-robots", "http:x-robots-tag"):
            tokens = {token.strip().lower() for token in raw.split(",")}
            blocked = bool(tokens & {"noai", "noimageai"})
            evidence.append(
                _evidence(channel, raw, "disallowed" if blocked else "no AI signal", location)
            )
            if blocked:
                findings.append((EXCLUDE, f"noai directive: {raw}"))
        elif channel == "bluesky:user-intents":
            declared = intents.parse_declaration(raw)
            evidence.append(
                _evidence(
                    channel, raw, f"synthetic={declared.synthetic} bulk={declared.bulk}", location
                )
            )
            if declared.synthetic is False:
                findings.append((EXCLUDE, "author disallows syntheticContentGeneration"))
            elif declared.bulk is False:
                findings.append((EXCLUDE, "author disallows bulkDataset redistribution"))

    if record.get("source_kind") == "archives":
        findings += _site_opt_outs(record, url, site, policy, evidence, usage_verdicts)

    if aipref.combine(usage_verdicts) == aipref.DISALLOWED:
        findings.append((EXCLUDE, "aipref train-ai=n"))
    if not findings:
        return None, ""
    worst = max(findings, key=lambda item: RESTRICTIVENESS[item[0]])
    return worst


def _tdm_header(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    values: dict[str, str] = {}
    for signal in record.get("consent") or []:
        if signal["channel"] in ("http:tdm-reservation", "http:tdm-policy"):
            values[signal["channel"]] = signal["raw"]
    return values.get("http:tdm-reservation"), values.get("http:tdm-policy")


def _tdm_meta(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    values: dict[str, str] = {}
    for signal in record.get("consent") or []:
        if signal["channel"] in ("html:meta-tdm-reservation", "html:meta-tdm:reservation"):
            values["reservation"] = signal["raw"]
        elif signal["channel"] in ("html:meta-tdm-policy", "html:meta-tdm:policy"):
            values["policy"] = signal["raw"]
    return values.get("reservation"), values.get("policy")


def site_file_evidence(
    record: Mapping[str, Any], site: SiteFiles | None, policy: RightsPolicy
) -> tuple[list[Signal], list[tuple[str, str]]]:
    """(the evidence, the findings) that a page's site files give under `policy`: what the
    audit records for them, recomputed on its own by the blocking checks (rights.verify)."""
    evidence: list[Signal] = []
    findings = _site_opt_outs(record, record.get("source_uri") or "", site, policy, evidence, [])
    return evidence, findings


def _site_opt_outs(
    record: Mapping[str, Any],
    url: str,
    site: SiteFiles | None,
    policy: RightsPolicy,
    evidence: list[Signal],
    usage_verdicts: list[str],
) -> list[tuple[str, str]]:
    findings: list[tuple[str, str]] = []
    site = site or SiteFiles()
    host = urlsplit(url).netloc
    path = urlsplit(url).path or "/"
    robots_location = site.locations.get("robots.txt", f"{host}/robots.txt")

    if site.robots is None:
        # No capture of the site's robots.txt in any partition: nothing shows the site did not
        # opt out, so the policy decides (robots_never_captured, default HOLD).
        missing = policy.robots_never_captured
        evidence.append(
            _evidence(
                "robots.txt",
                None,
                f"never captured: {missing} (policy robots_never_captured)",
                robots_location,
            )
        )
        if missing in (HOLD, EXCLUDE):
            findings.append((missing, f"robots.txt of {host} never captured"))
    elif site.robots.unreachable:
        evidence.append(
            _evidence(
                "robots.txt",
                f"HTTP {site.robots.status}",
                "unreachable: complete disallow (RFC 9309 §2.3.1.4)",
                robots_location,
            )
        )
        findings.append((policy.robots_unreachable, "robots.txt unreachable (5xx): retry later"))
    elif site.robots.unavailable:
        evidence.append(
            _evidence(
                "robots.txt",
                f"HTTP {site.robots.status}",
                "unavailable: no rules (RFC 9309 §2.3.1.3)",
                robots_location,
            )
        )
    else:
        token = policy.crawler_token
        if not site.robots.can_fetch(token, url):
            evidence.append(
                _evidence("robots.txt", f"{token} {path}", "crawl disallowed", robots_location)
            )
            findings.append((EXCLUDE, f"robots.txt disallows {token} on {path}"))
        else:
            evidence.append(
                _evidence("robots.txt", f"{token} {path}", "crawl allowed", robots_location)
            )
        for value in site.robots.content_usage(token, url):
            preference = aipref.parse_content_usage(value)
            usage_verdicts.append(preference.train_ai)
            evidence.append(
                _evidence("robots.txt:content-usage", value, preference.train_ai, robots_location)
            )
            if (
                policy.legacy_labels
                and preference.legacy_disallow
                and preference.train_ai == aipref.UNKNOWN
            ):
                findings.append(
                    (
                        HOLD if preference.credit_exception else EXCLUDE,
                        f"legacy aipref label in robots.txt: {value}",
                    )
                )
        for value in site.robots.content_signals(token, url):
            verdict = aipref.parse_content_signal(value)
            evidence.append(_evidence("robots.txt:content-signal", value, verdict, robots_location))
            if verdict == aipref.DISALLOWED:
                findings.append((EXCLUDE, f"Content-Signal ai-train=no in robots.txt: {value}"))
        blocked = site.robots.fully_blocked(("*", *policy.all_training_tokens()))
        for token_blocked in blocked:
            evidence.append(
                _evidence("robots.txt:full-block", token_blocked, "disallowed", robots_location)
            )
        if blocked:
            findings.append(
                (EXCLUDE, f"robots.txt fully blocks AI training crawlers: {', '.join(blocked)}")
            )

    if site.ai_txt is not None:
        location = site.locations.get("ai.txt", f"{host}/ai.txt")
        allowed = site.ai_txt.can_fetch("*", url)
        evidence.append(
            _evidence("ai.txt", path, "no match" if allowed else "disallowed", location)
        )
        if not allowed:
            findings.append((EXCLUDE, f"ai.txt disallows {path}"))

    file_rule, error = (None, None)
    if site.tdmrep_json is not None:
        file_rule, error = tdmrep.rule_for(site.tdmrep_json, path)
        evidence.append(
            _evidence(
                "tdmrep.json",
                json.dumps(file_rule) if file_rule else error,
                "rule matched" if file_rule else (error or "no rule matched"),
                site.locations.get("tdmrep", f"{host}/.well-known/tdmrep.json"),
            )
        )
    effective = tdmrep.effective_reservation(file_rule, _tdm_header(record), _tdm_meta(record))
    if effective.source != "none" or any(
        s["channel"].startswith(("http:tdm", "html:meta-tdm")) for s in record.get("consent") or []
    ):
        reservation = effective.reservation
        verdict = (
            "unset" if reservation is None else {1: "reserved", 0: "not reserved"}[reservation]
        )
        evidence.append(
            _evidence(
                "tdmrep:effective",
                effective.reservation,
                f"{verdict} (from {effective.source})",
                url,
            )
        )
    if effective.reservation == 1:
        findings.append((EXCLUDE, f"TDM rights reserved ({effective.source})"))
    return findings


# --- gate 3: licence --------------------------------------------------------------------------


def _licence(
    record: Mapping[str, Any], policy: RightsPolicy, evidence: list[Signal]
) -> LicenceVerdict | None:
    statements = [e["raw"] for e in record.get("licence_evidence") or [] if e.get("raw")]
    if not statements and record.get("licence_raw"):
        statements = [record["licence_raw"]]
    if not statements:
        return None
    aliases = policy.licence_aliases
    verdict = (
        classify_licence(statements[0], aliases)
        if len(statements) == 1
        else classify_licences(statements, aliases)
    )
    for statement in statements:
        single = classify_licence(statement, aliases)
        alias = alias_for(statement, aliases) if single.matched_by == "alias" else None
        evidence.append(
            _evidence(
                "licence",
                statement,
                f"{single.outcome} ({single.licence_class})"
                + (f" via {alias.label()} = {alias.licence}: {alias.reason}" if alias else ""),
                record.get("source_uri"),
            )
        )
    if policy.bhl_allow_list and "nkc_equivalent" in verdict.flags:
        verdict = LicenceVerdict(
            verdict.raw,
            verdict.normalised,
            "public-domain",
            INCLUDE,
            flags=verdict.flags,
            matched_by=verdict.matched_by,
        )
    return verdict


def _consent(record: Mapping[str, Any]) -> dict[str, Any] | None:
    for signal in record.get("consent") or []:
        if signal["channel"] == "bluesky:user-intents":
            declared = intents.parse_declaration(signal["raw"])
            if declared.synthetic is True and declared.bulk is True:
                return {"record": signal["raw"], "updated_at": declared.updated_at}
    return None


REVIEW_CHANNEL = "review"


def _reviewed(review: Review, licence: LicenceVerdict | None, evidence: list[Signal]) -> Decision:
    """A steward's decision (rights/reviews.py), recorded as evidence with its file and line."""
    who = f"{review.reviewer}, {review.decided_at}"
    if review.decision == "exclude":
        evidence.append(
            _evidence(REVIEW_CHANNEL, "exclude", f"exclude: {review.reason} ({who})", review.source)
        )
        return Decision(EXCLUDE, "review", f"steward review: {review.reason}", evidence, licence)
    determined = classify_licence(review.licence)
    evidence.append(
        _evidence(
            REVIEW_CHANNEL,
            review.licence,
            f"include under {determined.normalised} ({determined.licence_class}): "
            f"{review.reason} ({who})",
            review.source,
        )
    )
    reason = (
        f"steward review: {determined.normalised} ({determined.licence_class}), {review.reason}"
    )
    return Decision(determined.outcome, "review", reason, evidence, determined)


def decide(
    record: Mapping[str, Any],
    site: SiteFiles | None,
    takedowns: Iterable[Takedown],
    policy: RightsPolicy,
    reviews: Iterable[Review] = (),
) -> Decision:
    """The decision for one record, with the deciding gate and all evidence."""
    evidence: list[Signal] = []
    hits = takedown_hits(record, takedowns)
    for hit in hits:
        evidence.append(
            _evidence(
                f"takedown:{hit.match}",
                hit.value,
                f"matched ({hit.scope}): {hit.reason}",
                hit.source,
            )
        )
    if hits:
        return Decision(EXCLUDE, "takedown", f"takedown request: {hits[0].reason}", evidence)

    outcome, reason = _opt_outs(record, site, policy, evidence)
    licence = _licence(record, policy, evidence)
    review = review_for(record, reviews)
    # An opt-out excludes whatever a steward says; a HOLD (a signal that cannot be read: robots.txt
    # unreachable or never captured, a credit exception) is what a review is there to decide.
    if outcome == EXCLUDE or (outcome is not None and review is None):
        return Decision(outcome, "opt-out", reason, evidence, licence)
    if review is not None:
        return _reviewed(review, licence, evidence)

    if licence is not None and licence.matched_by != "none":
        decision = licence.outcome
        reason = f"licence {licence.normalised or licence.raw} ({licence.licence_class})"
        if "pd_jurisdiction=US" in licence.flags:
            reason += "; public domain in the US only"
        return Decision(decision, "licence", reason, evidence, licence)

    if (consent := _consent(record)) is not None:
        evidence.append(
            _evidence(
                "consent",
                consent["record"],
                "explicit consent: both uses",
                record.get("source_uri"),
            )
        )
        return Decision(
            INCLUDE,
            "consent",
            "author consented to generative training and bulk redistribution (user intents)",
            evidence,
            None,
            CONSENTED_TIER,
        )

    return Decision(
        EXCLUDE, "default", "no licence and no consent: nothing allows redistribution", evidence
    )


ADMITTED = (INCLUDE, INCLUDE_ATTRIB)
BODY_FREE_GATES = ("takedown", "opt-out")


def excluded_before_extraction(
    record: Mapping[str, Any],
    site: SiteFiles | None,
    takedowns: Iterable[Takedown],
    policy: RightsPolicy,
) -> Decision | None:
    """The exclusion that a page's captured record already carries, before its body is read:
    a takedown by URL, the site's robots.txt / ai.txt / tdmrep.json, the capture's headers.
    None when its body could still matter. Signals found in the body later only add findings,
    and the most restrictive finding decides (`_opt_outs`), so the audit of the extracted page
    would exclude it too: the clean stage may skip its extraction (reviews never lift an
    opt-out, so they are not needed here). A takedown of the work (its default scope) still
    needs the text: dedupe finds the work's copies by it and withdraws them too."""
    decision = decide(record, site, takedowns, policy)
    if decision.decision != EXCLUDE or decision.gate not in BODY_FREE_GATES:
        return None
    if any((e["verdict"] or "").startswith("matched (work)") for e in decision.evidence):
        return None
    return decision
