from __future__ import annotations

from commons_assets.clean.extraction import extract_page

ARTICLE = " ".join(
    f"Sentence {i} of the article explains how the harbour wall was repaired after the storm."
    for i in range(1, 9)
)
PAGE = f"""<!DOCTYPE html><html lang="en-GB"><head>
<title>Harbour wall | Town News</title>
<meta property="og:title" content="The harbour wall is repaired">
<meta name="author" content="Jo Example">
<meta property="article:published_time" content="2026-11-02T08:00:00Z">
<meta name="tdm-reservation" content="1">
<meta name="tdm-policy" content="https://news.example/tdm.json">
<meta name="DC.rights" content="Text CC BY 4.0">
<meta name="robots" content="index, follow, noai">
<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "NewsArticle",
  "license": {{"@id": "https://creativecommons.org/licenses/by-sa/4.0/"}}}}
</script>
</head><body>
<div class="cookie-banner">We use cookies to improve your experience. Accept all</div>
<nav><a href="/">Home</a> <a href="/sport">Sport</a> <a href="/weather">Weather</a></nav>
<main><article><h1>The harbour wall is repaired</h1><p>{ARTICLE}</p>
<p>The council thanked the volunteers who <a rel="nofollow license" href="/licence">helped</a>.</p>
</article></main>
<footer>Copyright Town News. <a href="/privacy">Privacy policy</a>
Subscribe to our newsletter</footer>
</body></html>"""


def test_main_text_without_boilerplate() -> None:
    page = extract_page(PAGE, "https://news.example/harbour")
    assert page.text is not None
    assert "Sentence 1 of the article" in page.text and "Sentence 8" in page.text
    for boilerplate in ("We use cookies", "Weather", "Subscribe to our newsletter", "Privacy"):
        assert boilerplate not in page.text


def test_licence_and_consent_evidence_are_captured() -> None:
    page = extract_page(PAGE, "https://news.example/harbour")
    licences = {(e["channel"], e["raw"]) for e in page.licence_evidence}
    assert ("html:link-rel-license", "https://creativecommons.org/licenses/by/4.0/") in licences
    assert ("html:json-ld-license", "https://creativecommons.org/licenses/by-sa/4.0/") in licences
    assert ("html:meta-dc.rights", "Text CC BY 4.0") in licences
    assert ("html:a-rel-license", "/licence") in licences  # rel is a token list
    consents = {(e["channel"], e["raw"]) for e in page.consent_evidence}
    assert consents == {
        ("html:meta-tdm-reservation", "1"),
        ("html:meta-tdm-policy", "https://news.example/tdm.json"),
        ("html:meta-robots", "index, follow, noai"),
    }
    assert all(e["location"] == "https://news.example/harbour" for e in page.licence_evidence)


def test_metadata_from_meta_tags() -> None:
    page = extract_page(PAGE, "https://news.example/harbour")
    assert page.title == "The harbour wall is repaired"
    assert page.author == "Jo Example"
    assert page.date == "2026-11-02T08:00:00Z"
    assert page.language_hint == "en-GB"


def test_page_without_signals_has_no_evidence() -> None:
    page = extract_page("<html><body><nav><a href='/'>Home</a></nav></body></html>", None)
    assert page.licence_evidence == [] and page.consent_evidence == []
    robots_only = extract_page('<html><head><meta name="robots" content="index"></head></html>')
    assert robots_only.consent_evidence == []  # a robots meta without noai is no AI signal


def test_unparseable_input_gives_no_text_not_an_error() -> None:
    assert extract_page("").text is None
