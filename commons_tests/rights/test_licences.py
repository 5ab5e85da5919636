"""Licence vectors 40-53 of the spec, plus the real URL forms and look-alikes."""

from __future__ import annotations

import pytest

from commons_assets.rights.licences import (
    EXCLUDE,
    HOLD,
    INCLUDE,
    INCLUDE_ATTRIB,
    classify_licence,
    classify_licences,
)

CC = "https://creativecommons.org/licenses/"
PDM = "https://creativecommons.org/publicdomain/mark/1.0/"


@pytest.mark.parametrize(
    ("vector", "raw", "outcome", "licence_class"),
    [
        (40, "https://creativecommons.org/licenses/by/4.0/", INCLUDE_ATTRIB, "permissive"),
        (41, "http://creativecommons.org/licenses/by-nc/4.0/", EXCLUDE, "non-commercial"),
        (42, "https://creativecommons.org/licenses/by-nd/4.0/", EXCLUDE, "no-derivatives"),
        (44, "https://creativecommons.org/publicdomain/zero/1.0/", INCLUDE, "public-domain"),
        (45, "https://creativecommons.org/publicdomain/mark/1.0/", INCLUDE, "public-domain"),
        (46, "http://rightsstatements.org/vocab/NoC-US/1.0/", INCLUDE, "public-domain"),
        (47, "http://rightsstatements.org/vocab/InC/1.0/", EXCLUDE, "in-copyright"),
        (49, "http://rightsstatements.org/vocab/NKC/1.0/", HOLD, "unknown"),
        (50, "GPL-2.0", EXCLUDE, "copyleft"),
        (52, "Unspecified", HOLD, "unknown"),
        (
            53,
            "No known copyright restrictions as determined by scanning institution.",
            HOLD,
            "unknown",
        ),
    ],
)
def test_spec_vectors(vector: int, raw: str, outcome: str, licence_class: str) -> None:
    verdict = classify_licence(raw)
    assert (verdict.outcome, verdict.licence_class) == (outcome, licence_class), vector
    assert verdict.raw == raw


def test_vector_46_flags_the_jurisdiction_and_50_normalises_the_deprecated_id() -> None:
    assert classify_licence("http://rightsstatements.org/vocab/NoC-US/1.0/").flags == (
        "pd_jurisdiction=US",
    )
    assert classify_licence("GPL-2.0").normalised == "GPL-2.0-only"


def test_vector_51_several_licences_resolve_to_the_most_restrictive() -> None:
    verdict = classify_licences(["CC BY 4.0", "CC BY-NC 4.0"])
    assert (verdict.outcome, verdict.licence_class) == (EXCLUDE, "non-commercial")


@pytest.mark.parametrize(
    ("raw", "normalised", "outcome"),
    [
        (
            "https://creativecommons.org/licenses/by/4.0",
            "https://creativecommons.org/licenses/by/4.0/",
            INCLUDE_ATTRIB,
        ),
        (
            "http://www.creativecommons.org/licenses/by/4.0/legalcode",
            "https://creativecommons.org/licenses/by/4.0/",
            INCLUDE_ATTRIB,
        ),
        (
            "https://creativecommons.org/licenses/by/4.0/legalcode.de",
            "https://creativecommons.org/licenses/by/4.0/",
            INCLUDE_ATTRIB,
        ),
        (
            "https://creativecommons.org/licenses/by-sa/4.0/deed.fr",
            "https://creativecommons.org/licenses/by-sa/4.0/",
            INCLUDE_ATTRIB,
        ),
        (
            "https://creativecommons.org/licenses/by-sa/3.0/de/",
            "https://creativecommons.org/licenses/by-sa/3.0/de/",
            INCLUDE_ATTRIB,
        ),
        (
            "HTTPS://CreativeCommons.org/licenses/by-nc-sa/2.0/uk/",
            "https://creativecommons.org/licenses/by-nc-sa/2.0/uk/",
            EXCLUDE,
        ),
        (
            "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
            "https://creativecommons.org/publicdomain/zero/1.0/",
            INCLUDE,
        ),
        (
            "https://rightsstatements.org/page/InC-EDU/1.0/?language=en",
            "http://rightsstatements.org/vocab/InC-EDU/1.0/",
            EXCLUDE,
        ),
        (
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
            INCLUDE_ATTRIB,
        ),
        (
            "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International",
            "https://creativecommons.org/licenses/by-nc-sa/4.0/",
            EXCLUDE,
        ),
        ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/", INCLUDE_ATTRIB),
        ("CC0", "CC0-1.0", INCLUDE),
        ("cc-by-4.0", "CC-BY-4.0", INCLUDE_ATTRIB),
        ("MIT OR GPL-3.0-only", "MIT OR GPL-3.0-only", INCLUDE_ATTRIB),  # OR: best option
        ("CC-BY-4.0 AND CC-BY-NC-4.0", "CC-BY-4.0 AND CC-BY-NC-4.0", EXCLUDE),  # AND: worst
        ("GPL-2.0+", "GPL-2.0-or-later", EXCLUDE),
        ("ODC-By-1.0", "ODC-By-1.0", INCLUDE_ATTRIB),
        ("PDDL-1.0", "PDDL-1.0", INCLUDE),
        ("etalab-2.0", "etalab-2.0", INCLUDE_ATTRIB),  # Licence Ouverte 2.0
        ("OGL-UK-3.0", "OGL-UK-3.0", INCLUDE_ATTRIB),
        ("CDLA-Permissive-1.0", "CDLA-Permissive-1.0", INCLUDE_ATTRIB),
        ("All rights reserved", "all-rights-reserved", EXCLUDE),
        ("© Example Museum 2026", "all-rights-reserved", EXCLUDE),
    ],
)
def test_real_forms_normalise(raw: str, normalised: str, outcome: str) -> None:
    verdict = classify_licence(raw)
    assert (verdict.normalised, verdict.outcome) == (normalised, outcome)


@pytest.mark.parametrize(
    "raw",
    [
        "https://creativecommons.org.evil.example/licenses/by/4.0/",
        "https://example.com/creativecommons.org/licenses/by/4.0/",
        "https://creativecommons.org/about/",
        "https://rightsstatements.org/vocab/Made-Up/1.0/",
        "see our website",
        "",
        None,
    ],
)
def test_look_alikes_and_unknowns_are_held(raw: str | None) -> None:
    verdict = classify_licence(raw)
    assert (verdict.outcome, verdict.licence_class) == (HOLD, "unknown")


def test_duties_and_us_public_domain() -> None:
    share_alike = classify_licence("CC BY-SA 4.0")
    assert share_alike.attribution and share_alike.share_alike
    assert classify_licence("Public domain (U.S. government work)").flags == ("pd_jurisdiction=US",)
    assert classify_licence("Public domain in the USA.").outcome == INCLUDE


@pytest.mark.parametrize(
    ("statement", "outcome", "licence_class", "normalised"),
    [
        # Project Gutenberg's rights_url for its public-domain books (GITenberg metadata.yaml)
        ("http://creativecommons.org/about/pdm", "INCLUDE", "public-domain", PDM),
        ("https://creativecommons.org/publicdomain/mark/1.0/", "INCLUDE", "public-domain", PDM),
        ("creativecommons.org/licenses/by/2.0", "INCLUDE_ATTRIB", "permissive", f"{CC}by/2.0/"),
        (
            "http://www.creativecommons.org/licenses/by-sa/4.0/deed.de",
            "INCLUDE_ATTRIB",
            "share-alike",
            f"{CC}by-sa/4.0/",
        ),
        (
            "https://creativecommons.org/licenses/by-nc/3.0/legalcode",
            "EXCLUDE",
            "non-commercial",
            f"{CC}by-nc/3.0/",
        ),
        # Wikimedia Commons LicenseShortName values
        ("CC BY-SA 3.0 de", "INCLUDE_ATTRIB", "share-alike", f"{CC}by-sa/3.0/de/"),
        ("CC0", "INCLUDE", "public-domain", "CC0-1.0"),
        ("Public domain", "INCLUDE", "public-domain", "public-domain"),
        ("PD-US", "INCLUDE", "public-domain", "public-domain"),
        ("PD-old-70", "INCLUDE", "public-domain", "public-domain"),
        # a licence deed's title
        (
            "Attribution-NonCommercial-ShareAlike 4.0 International (CC BY-NC-SA 4.0)",
            "EXCLUDE",
            "non-commercial",
            f"{CC}by-nc-sa/4.0/",
        ),
        (
            "Attribution 4.0 International (CC BY 4.0)",
            "INCLUDE_ATTRIB",
            "permissive",
            f"{CC}by/4.0/",
        ),
        # Openverse licence + version pairs
        ("by-sa 2.0", "INCLUDE_ATTRIB", "share-alike", f"{CC}by-sa/2.0/"),
        ("by-nc-nd", "EXCLUDE", "non-commercial", "CC-BY-NC-ND"),
        ("pdm", "INCLUDE", "public-domain", PDM),
        ("sampling+", "EXCLUDE", "restricted", None),
        # Europeana's own rights URIs and rightsstatements.org without a scheme
        (
            "http://www.europeana.eu/rights/rr-f/",
            "EXCLUDE",
            "in-copyright",
            "http://www.europeana.eu/rights/rr-f/",
        ),
        (
            "http://www.europeana.eu/rights/unknown/",
            "HOLD",
            "unknown",
            "http://www.europeana.eu/rights/unknown/",
        ),
        (
            "rightsstatements.org/vocab/InC/1.0/",
            "EXCLUDE",
            "in-copyright",
            "http://rightsstatements.org/vocab/InC/1.0/",
        ),
        # Project Gutenberg's rights statement
        ("Public domain in the USA.", "INCLUDE", "public-domain", "public-domain"),
        # SMK's CC0 statement is CC's page about CC0
        (
            "https://creativecommons.org/share-your-work/public-domain/cc0/",
            "INCLUDE",
            "public-domain",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
        # a museum's holder-then-licence notice (Museums Victoria)
        ("Copyright Museums Victoria / CC BY", "INCLUDE_ATTRIB", "permissive", "CC-BY"),
        ("Copyright Museums Victoria / CC BY-NC", "EXCLUDE", "non-commercial", "CC-BY-NC"),
        ("© Tate", "EXCLUDE", "in-copyright", "all-rights-reserved"),
    ],
)
def test_licence_statements_as_they_occur_in_the_wild(
    statement: str, outcome: str, licence_class: str, normalised: str | None
) -> None:
    verdict = classify_licence(statement)
    assert (verdict.outcome, verdict.licence_class, verdict.normalised) == (
        outcome,
        licence_class,
        normalised,
    )


def test_us_only_public_domain_is_flagged() -> None:
    for statement in ("PD-US", "PD-USGov-NASA", "Public domain in the USA."):
        assert "pd_jurisdiction=US" in classify_licence(statement).flags
    assert classify_licence("PD-old-70").flags == ()
