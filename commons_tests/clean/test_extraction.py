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


# Inputs that take each branch of trafilatura's loader: no markup, a fragment, an XML
# declaration of an encoding (a str lxml refuses), a self-closed doctype and <html/>, characters
# XML forbids, a lone surrogate, form elements (which lxml.html gives classes of their own).
LOADER_CASES = [
    "",
    "plain text without any markup",
    "<p>a fragment</p>",
    "<?xml version='1.0' encoding='ISO-8859-1'?><html><body><p>caf\u00e9</p></body></html>",
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x.dtd"/>\n<html><body>doc</body></html>',
    "<html lang='en'/>\n<body><p>self-closed html</p></body>",
    "<html><body><p>control \x00\x0b\x1f characters and \ud800 a surrogate</p></body></html>",
    "<html><body><form><label>Name<input name=n value=v></label><select><option>1</select>"
    "<textarea>words</textarea></form><p>after the form</p></body></html>",
    PAGE,
]


def sample_pages() -> list[tuple[str, str]]:
    """(html, url) of every page of the bundled sample crawl."""
    from pathlib import Path

    from upath import UPath

    from commons_assets.sources.warc import read_warc

    archives = Path(__file__).resolve().parents[2] / "data" / "sources" / "archives"
    return [
        (record["html"], record["source_uri"])
        for path in sorted(archives.glob("crawl-*"))
        for record in read_warc(UPath(path), "p", path.name).records
        if record["record_role"] == "page" and record["html"]
    ]


def test_pages_parse_as_trafilatura_loads_them() -> None:
    """`parse_html` (trafilatura's parser options, element classes looked up in C) gives the
    trees trafilatura's own loader gives, and trafilatura extracts the same text from them."""
    import trafilatura
    from lxml.html import tostring
    from trafilatura.utils import load_html

    from commons_assets.clean.extraction import parse_html

    pages = [*((html, None) for html in LOADER_CASES), *sample_pages()]
    assert len(pages) > len(LOADER_CASES) + 5
    for html, url in pages:
        ours, theirs = parse_html(html), load_html(html)
        assert (ours is None) == (theirs is None), html[:80]
        if ours is None or theirs is None:
            continue
        assert tostring(ours) == tostring(theirs), html[:80]
        options = {"url": url, "favor_precision": True, "include_comments": False}
        ours_text, theirs_text = (
            getattr(trafilatura.bare_extraction(tree, **options), "text", None)
            for tree in (ours, theirs)
        )
        assert ours_text == theirs_text, html[:80]
