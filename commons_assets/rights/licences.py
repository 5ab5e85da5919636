"""Licence normalisation and classification for gate 3 of the rights policy (may the record be
redistributed in an open dataset?).

Recognised forms, in this order: SPDX ids and expressions (license-expression and its bundled
SPDX/ScanCode data, so deprecated ids such as `GPL-2.0` normalise to `GPL-2.0-only`), Creative
Commons URLs in their real forms (http/https, www, legalcode, deed.xx, ported versions; only on
the creativecommons.org host), rightsstatements.org URIs (canonical `http://` form), and free
text (CC names, "Public Domain", "All rights reserved", ©). Anything else is `unknown` → HOLD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from urllib.parse import urlsplit

from license_expression import (
    ExpressionError,
    LicenseExpression,
    Licensing,
    get_license_index,
)
from license_expression import get_spdx_licensing as _spdx_licensing

from commons_assets.rights.aliases import LicenceAlias, alias_for

INCLUDE = "INCLUDE"
INCLUDE_ATTRIB = "INCLUDE_ATTRIB"
HOLD = "HOLD"
EXCLUDE = "EXCLUDE"
# Most restrictive last: combining with AND, or several licences for one work, takes the max.
RESTRICTIVENESS = {INCLUDE: 0, INCLUDE_ATTRIB: 1, HOLD: 2, EXCLUDE: 3}


@dataclass(frozen=True)
class LicenceVerdict:
    raw: str | None
    normalised: str | None  # SPDX expression or canonical URI
    licence_class: str  # public-domain, permissive, share-alike, non-commercial, no-derivatives,
    # copyleft, in-copyright, restricted, unknown
    outcome: str  # INCLUDE, INCLUDE_ATTRIB, HOLD, EXCLUDE
    attribution: bool = False
    share_alike: bool = False
    flags: tuple[str, ...] = ()
    matched_by: str = "none"


UNKNOWN = "unknown"


def _verdict(
    raw: str | None,
    normalised: str | None,
    cls: str,
    outcome: str,
    by: str,
    attribution: bool = False,
    share_alike: bool = False,
    flags: tuple[str, ...] = (),
) -> LicenceVerdict:
    return LicenceVerdict(raw, normalised, cls, outcome, attribution, share_alike, flags, by)


# --- Creative Commons -------------------------------------------------------------------------

CC_HOSTS = {"creativecommons.org", "www.creativecommons.org"}
CC_LICENCE_PATH = re.compile(
    r"^/licen[cs]es/(?P<family>by(?:-nc)?(?:-nd|-sa)?)/(?P<version>\d\.\d)"
    r"(?:/(?P<port>[a-z]{2}(?:-[a-z]{2})?))?"
    r"(?:/(?:legalcode(?:\.[a-z-]+)?|deed\.[a-z-]+)?)?/?$",
    re.IGNORECASE,
)
CC_PUBLIC_DOMAIN_PATH = re.compile(
    r"^/publicdomain/(?P<tool>zero|mark)/1\.0(?:/(?:legalcode(?:\.[a-z-]+)?|deed\.[a-z-]+)?)?/?$",
    re.IGNORECASE,
)


def cc_family(
    family: str, version: str | None, raw: str | None, by: str, port: str | None = None
) -> LicenceVerdict:
    """A CC licence family (`by`, `by-sa`, `by-nc-nd`, …) to a verdict. NC and ND are excluded
    (Common Pile's RestrictiveLicenses; spec gate 3); BY and BY-SA are included with duties."""
    family = family.lower()
    spdx = f"CC-{family.upper()}" + (f"-{version}" if version else "")
    url = (
        f"https://creativecommons.org/licenses/{family}/{version}/" + (f"{port}/" if port else "")
        if version
        else spdx
    )
    if "nc" in family.split("-"):
        return _verdict(raw, url, "non-commercial", EXCLUDE, by, attribution=True)
    if "nd" in family.split("-"):
        return _verdict(raw, url, "no-derivatives", EXCLUDE, by, attribution=True)
    if family == "by-sa":
        return _verdict(raw, url, "share-alike", INCLUDE_ATTRIB, by, True, True)
    return _verdict(raw, url, "permissive", INCLUDE_ATTRIB, by, attribution=True)


# Pages about CC's public-domain tools that collections give as the tool itself: the Public
# Domain Mark's "about" page (Project Gutenberg's `rights_url`, GITenberg metadata.yaml) and the
# "share your work" pages (SMK's `rights`, Openverse provider payloads).
CC_PUBLIC_DOMAIN_PAGES = {
    "/about/pdm": "https://creativecommons.org/publicdomain/mark/1.0/",
    "/share-your-work/public-domain/pdm": "https://creativecommons.org/publicdomain/mark/1.0/",
    "/share-your-work/public-domain/cc0": "https://creativecommons.org/publicdomain/zero/1.0/",
}


def _url(raw: str) -> str:
    """A URL as written in metadata, with the scheme that metadata often leaves out."""
    text = raw.strip()
    if re.match(r"^(?:www\.)?(?:creativecommons|rightsstatements|europeana)\.(?:org|eu)/", text):
        return f"https://{text}"
    return text


def _cc_url(raw: str) -> LicenceVerdict | None:
    parts = urlsplit(_url(raw))
    if parts.scheme not in ("http", "https") or parts.hostname not in CC_HOSTS:
        return None
    if canonical := CC_PUBLIC_DOMAIN_PAGES.get(parts.path.rstrip("/").lower()):
        return _verdict(raw, canonical, "public-domain", INCLUDE, "cc-url")
    if match := CC_LICENCE_PATH.match(parts.path):
        return cc_family(match["family"], match["version"], raw, "cc-url", match["port"])
    if match := CC_PUBLIC_DOMAIN_PATH.match(parts.path):
        tool = match["tool"].lower()
        canonical = f"https://creativecommons.org/publicdomain/{tool}/1.0/"
        return _verdict(raw, canonical, "public-domain", INCLUDE, "cc-url")
    return _verdict(raw, None, UNKNOWN, HOLD, "cc-url")  # a CC page that is no licence


# --- rightsstatements.org ---------------------------------------------------------------------

RS_HOSTS = {"rightsstatements.org", "www.rightsstatements.org"}
RS_PATH = re.compile(r"^/(?:vocab|page)/(?P<id>[A-Za-z-]+)/1\.0/?$")
# rightsstatements/data-model; outcomes per spec gate 3.
RIGHTS_STATEMENTS = {
    "InC": ("in-copyright", EXCLUDE),
    "InC-OW-EU": ("in-copyright", EXCLUDE),
    "InC-EDU": ("in-copyright", EXCLUDE),
    "InC-NC": ("in-copyright", EXCLUDE),
    "InC-RUU": ("in-copyright", EXCLUDE),
    "NoC-CR": ("restricted", EXCLUDE),
    "NoC-NC": ("non-commercial", EXCLUDE),
    "NoC-OKLR": (UNKNOWN, HOLD),
    "NoC-US": ("public-domain", INCLUDE),
    "CNE": (UNKNOWN, HOLD),
    "UND": (UNKNOWN, HOLD),
    "NKC": (UNKNOWN, HOLD),
}


def _rights_statement(raw: str) -> LicenceVerdict | None:
    parts = urlsplit(_url(raw))
    if parts.scheme not in ("http", "https") or parts.hostname not in RS_HOSTS:
        return None
    match = RS_PATH.match(parts.path)
    statement = next(
        (key for key in RIGHTS_STATEMENTS if match and key.lower() == match["id"].lower()), None
    )
    if statement is None:
        return _verdict(raw, None, UNKNOWN, HOLD, "rightsstatements")
    cls, outcome = RIGHTS_STATEMENTS[statement]
    flags = ("pd_jurisdiction=US",) if statement == "NoC-US" else ()
    canonical = f"http://rightsstatements.org/vocab/{statement}/1.0/"
    return _verdict(raw, canonical, cls, outcome, "rightsstatements", flags=flags)


# --- Europeana's own rights URIs (before it adopted rightsstatements.org) ----------------------

EUROPEANA_HOSTS = {"europeana.eu", "www.europeana.eu"}
EUROPEANA_PATH = re.compile(r"^/rights/(?P<id>[a-z-]+)/?$", re.IGNORECASE)
# Europeana Data Model rights statements (EDM `edm:rights`, pre-2016 values): rr-f rights
# reserved, free access; rr-p paid access; rr-r restricted access; unknown copyright status;
# out-of-copyright-non-commercial; orphan-work-eu.
EUROPEANA_RIGHTS = {
    "rr-f": ("in-copyright", EXCLUDE),
    "rr-p": ("in-copyright", EXCLUDE),
    "rr-r": ("in-copyright", EXCLUDE),
    "out-of-copyright-non-commercial": ("non-commercial", EXCLUDE),
    "orphan-work-eu": (UNKNOWN, HOLD),
    "unknown": (UNKNOWN, HOLD),
}


def _europeana(raw: str) -> LicenceVerdict | None:
    parts = urlsplit(_url(raw))
    if parts.scheme not in ("http", "https") or parts.hostname not in EUROPEANA_HOSTS:
        return None
    match = EUROPEANA_PATH.match(parts.path)
    key = match["id"].lower() if match else None
    if key not in EUROPEANA_RIGHTS:
        return _verdict(raw, None, UNKNOWN, HOLD, "europeana")
    cls, outcome = EUROPEANA_RIGHTS[key]
    return _verdict(raw, f"http://www.europeana.eu/rights/{key}/", cls, outcome, "europeana")


# --- SPDX -------------------------------------------------------------------------------------

# ScanCode LicenseDB categories (shipped in license-expression) → (class, outcome). GNU licences
# are excluded by name below (Common Pile RestrictiveLicenses: GPL); other weak copyleft is held.
CATEGORY_OUTCOMES = {
    "Public Domain": ("public-domain", INCLUDE),
    "Permissive": ("permissive", INCLUDE_ATTRIB),
    "Copyleft": ("copyleft", EXCLUDE),
    "Copyleft Limited": ("copyleft", HOLD),
    "Proprietary Free": ("restricted", EXCLUDE),
    "Source-available": ("restricted", EXCLUDE),
    "Commercial": ("in-copyright", EXCLUDE),
    "Free Restricted": ("restricted", EXCLUDE),
}
GNU_PREFIXES = ("GPL-", "LGPL-", "AGPL-", "GFDL-")
CC_SPDX = re.compile(r"^CC-(?P<family>BY(?:-NC)?(?:-ND|-SA)?)-(?P<version>\d\.\d)(?:-[A-Z]+)?$")


@cache
def _spdx() -> Licensing:
    return _spdx_licensing()


@cache
def _categories() -> dict[str, str]:
    categories: dict[str, str] = {}
    for entry in get_license_index():
        for key in [entry.get("spdx_license_key"), *(entry.get("other_spdx_license_keys") or [])]:
            if key and entry.get("category"):
                categories.setdefault(key, entry["category"])
    return categories


def _spdx_symbol(key: str, raw: str | None) -> LicenceVerdict:
    if key in ("CC0-1.0", "CC-PDDC", "CC-PDM-1.0", "PDDL-1.0"):
        return _verdict(raw, key, "public-domain", INCLUDE, "spdx")
    if match := CC_SPDX.match(key):
        verdict = cc_family(match["family"], match["version"], raw, "spdx")
        return _verdict(
            raw,
            key,
            verdict.licence_class,
            verdict.outcome,
            "spdx",
            verdict.attribution,
            verdict.share_alike,
        )
    if key.startswith(GNU_PREFIXES):
        return _verdict(raw, key, "copyleft", EXCLUDE, "spdx", attribution=True, share_alike=True)
    cls, outcome = CATEGORY_OUTCOMES.get(_categories().get(key, ""), (UNKNOWN, HOLD))
    return _verdict(
        raw,
        key,
        cls,
        outcome,
        "spdx",
        attribution=outcome == INCLUDE_ATTRIB,
        share_alike=cls == "copyleft",
    )


def _combine(
    verdicts: list[LicenceVerdict],
    raw: str | None,
    normalised: str | None,
    pick_most_permissive: bool,
    by: str,
) -> LicenceVerdict:
    ranked = sorted(
        verdicts, key=lambda v: RESTRICTIVENESS[v.outcome], reverse=not pick_most_permissive
    )
    chosen = ranked[0]
    if pick_most_permissive:
        return _verdict(
            raw,
            chosen.normalised if len(verdicts) > 1 else normalised,
            chosen.licence_class,
            chosen.outcome,
            by,
            chosen.attribution,
            chosen.share_alike,
            chosen.flags,
        )
    return _verdict(
        raw,
        normalised,
        chosen.licence_class,
        chosen.outcome,
        by,
        any(v.attribution for v in verdicts),
        any(v.share_alike for v in verdicts),
        tuple(sorted({f for v in verdicts for f in v.flags})),
    )


def _expression(node: LicenseExpression, raw: str | None) -> LicenceVerdict:
    """SPDX expression: OR takes the most permissive admissible option, AND the most
    restrictive part (spec, issue: OR → best option, AND → worst)."""
    operator = getattr(node, "operator", None)
    if operator is None:
        return _spdx_symbol(node.key, raw)
    parts = [_expression(arg, raw) for arg in node.args]
    return _combine(parts, raw, node.render(), operator.strip().upper() == "OR", "spdx")


def _spdx_expression(raw: str) -> LicenceVerdict | None:
    try:
        parsed = _spdx().parse(raw.strip(), validate=True, strict=True)
    except (ExpressionError, Exception):
        return None
    if parsed is None:
        return None
    verdict = _expression(parsed, raw)
    return _verdict(
        raw,
        parsed.render(),
        verdict.licence_class,
        verdict.outcome,
        "spdx",
        verdict.attribution,
        verdict.share_alike,
        verdict.flags,
    )


# --- free text --------------------------------------------------------------------------------

CC_NAME = re.compile(
    r"^(?:creative\s*commons|cc)[\s-]*"
    r"(?P<terms>(?:(?:attribution|by|non-?commercial|nc|share-?alike|sa|no-?deriv(?:ative)?s?|nd)"
    r"[\s-]*)+)"
    r"(?P<version>\d\.\d)?"
    # Wikimedia Commons writes a ported licence's jurisdiction after the version: "CC BY-SA 3.0 de"
    r"(?:[\s-]+(?P<port>[a-z]{2}))?"
    r"(?:\s*(?:international|unported|generic|license|licence))*\.?$",
    re.IGNORECASE,
)
# A licence deed's title: "Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)".
CC_DEED_TITLE = re.compile(r"^[a-z -]+\d\.\d[a-z ]*\((?P<short>cc[^)]+)\)\.?$", re.IGNORECASE)
# Openverse's licence + version pairs ("by-sa" "2.0", "cc0" "1.0", "pdm" "1.0") written together.
OPENVERSE_PAIR = re.compile(
    r"^(?P<family>by(?:-nc)?(?:-nd|-sa)?|cc0|pdm|sampling\+?|nc-sampling\+?)"
    r"(?:[\s/-]+(?P<version>\d\.\d))?$",
    re.IGNORECASE,
)
# Wikimedia Commons public-domain templates: PD-old, PD-old-70, PD-art, PD-self, PD-US,
# PD-USGov(-NASA, …), PD-scan; the US ones are public domain in the United States only.
WIKIMEDIA_PD = re.compile(r"^pd-(?P<kind>[a-z0-9-]+)$", re.IGNORECASE)
CC_ZERO_NAME = re.compile(
    r"^(?:cc\s*0|cc-?zero|creative\s*commons\s*zero)(?:[\s-]*1\.0)?(?:\s*universal)?"
    r"(?:\s*\(?cc0 1\.0\)?)?(?:\s*public\s*domain\s*dedication)?\.?$",
    re.IGNORECASE,
)
IN_COPYRIGHT = re.compile(
    r"all rights reserved|^\s*(?:©|\(c\)|copyright\b)|\bcopyrighted\b", re.IGNORECASE
)
PUBLIC_DOMAIN = re.compile(r"^public[\s-]*domain\b", re.IGNORECASE)
US_JURISDICTION = re.compile(r"\bu\.?\s?s\.?a?\b|united states|federal", re.IGNORECASE)
NO_KNOWN_RESTRICTIONS = re.compile(
    # Flickr Commons' wording, its usage page, and Wikimedia's short name for it
    r"no known copyright restrictions|not[_ ]in[_ ]copyright|^no restrictions$"
    r"|flickr\.com/commons/usage",
    re.IGNORECASE,
)
DPI_UNSPECIFIED = {"unspecified", "unknown", "other"}


def _terms_to_family(terms: str) -> str:
    lowered = terms.lower()
    for spelled, joined in (
        ("non-commercial", "noncommercial"),
        ("share-alike", "sharealike"),
        ("no-deriv", "noderiv"),
    ):
        lowered = lowered.replace(spelled, joined)
    words = re.findall(r"[a-z]+", lowered)
    has = set(words)
    family = ["by"]
    if has & {"noncommercial", "nc"}:
        family.append("nc")
    if has & {"noderivatives", "noderivs", "noderivative", "nd"}:
        family.append("nd")
    elif has & {"sharealike", "sa"}:
        family.append("sa")
    return "-".join(family)


# "Copyright Museums Victoria / CC BY": the rights holder, then the licence they grant.
HOLDER_THEN_LICENCE = re.compile(
    r"^(?:©|\(c\)|copyright)[^/]*/\s*(?P<licence>(?:cc|creative commons)\b.*)$", re.IGNORECASE
)


def _free_text(raw: str) -> LicenceVerdict | None:
    text = " ".join(raw.split())
    if match := HOLDER_THEN_LICENCE.match(text):
        granted = _free_text(match["licence"])
        if granted is not None and granted.licence_class != UNKNOWN:
            return replace(granted, raw=raw)
    if match := CC_DEED_TITLE.match(text):
        text = match["short"]
    if match := CC_NAME.match(text):
        family = _terms_to_family(match["terms"])
        return cc_family(family, match["version"], raw, "free-text", (match["port"] or "").lower())
    if match := OPENVERSE_PAIR.match(text):
        family = match["family"].lower()
        if family == "cc0":
            return _verdict(raw, "CC0-1.0", "public-domain", INCLUDE, "free-text")
        if family == "pdm":
            canonical = "https://creativecommons.org/publicdomain/mark/1.0/"
            return _verdict(raw, canonical, "public-domain", INCLUDE, "free-text")
        if "sampling" in family:  # CC Sampling+ licences are retired and restrict use
            return _verdict(raw, None, "restricted", EXCLUDE, "free-text")
        return cc_family(family, match["version"], raw, "free-text")
    if text.lower() == "pd":  # Wikimedia Commons' `License` value for its PD templates
        return _verdict(raw, "public-domain", "public-domain", INCLUDE, "free-text")
    if match := WIKIMEDIA_PD.match(text):
        us_only = match["kind"].lower().startswith("us")
        flags = ("pd_jurisdiction=US",) if us_only else ()
        return _verdict(raw, "public-domain", "public-domain", INCLUDE, "free-text", flags=flags)
    if CC_ZERO_NAME.match(text):
        return _verdict(raw, "CC0-1.0", "public-domain", INCLUDE, "free-text")
    if NO_KNOWN_RESTRICTIONS.search(text):
        # Common Pile's BHL allow-list wording: NKC-equivalent, source-asserted (vector 53).
        return _verdict(
            raw,
            "http://rightsstatements.org/vocab/NKC/1.0/",
            UNKNOWN,
            HOLD,
            "free-text",
            flags=("nkc_equivalent",),
        )
    if PUBLIC_DOMAIN.match(text):
        flags = ("pd_jurisdiction=US",) if US_JURISDICTION.search(text) else ()
        return _verdict(raw, "public-domain", "public-domain", INCLUDE, "free-text", flags=flags)
    if IN_COPYRIGHT.search(text):
        return _verdict(raw, "all-rights-reserved", "in-copyright", EXCLUDE, "free-text")
    if text.lower() in DPI_UNSPECIFIED:
        return _verdict(raw, None, UNKNOWN, HOLD, "free-text")
    return None


def classify_licence(raw: str | None, aliases: tuple[LicenceAlias, ...] = ()) -> LicenceVerdict:
    """Normalise and classify one licence statement; a steward's alias (rights/aliases.py) that
    names the statement is applied first."""
    if raw is None or not raw.strip():
        return _verdict(raw, None, UNKNOWN, HOLD, "none")
    if (alias := alias_for(raw, aliases)) is not None:
        meant = classify_licence(alias.licence)
        return replace(
            meant, raw=raw, matched_by="alias", flags=(*meant.flags, f"alias={alias.number}")
        )
    for recognise in (_cc_url, _rights_statement, _europeana, _spdx_expression, _free_text):
        if (verdict := recognise(raw)) is not None:
            return verdict
    return _verdict(raw, None, UNKNOWN, HOLD, "unrecognised")


def classify_licences(raws: list[str], aliases: tuple[LicenceAlias, ...] = ()) -> LicenceVerdict:
    """Several licences stated for one work: the most restrictive decides (DPI
    `resolve_multiple_licenses`; spec vector 51)."""
    verdicts = [classify_licence(raw, aliases) for raw in raws]
    if not verdicts:
        return classify_licence(None)
    return _combine(
        verdicts,
        " | ".join(raws),
        " AND ".join(v.normalised or "unknown" for v in verdicts),
        False,
        "multiple",
    )
