"""HTML pages to main text with trafilatura, plus the page's licence and consent evidence and
cheap metadata, from one parse of the HTML.

trafilatura works on a copy of the tree it is given, so the evidence read from it is whole. Title,
author and date come from meta tags and JSON-LD rather than trafilatura's `with_metadata`,
which runs htmldate and halves throughput (measured on the trafilatura evaluation pages:
28 vs 51 pages/s per core) for fields a page's own markup usually states.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction, fromstring
from trafilatura.utils import is_dubious_html, repair_faulty_html

from commons_assets.clean import xpath_guards

TRAFILATURA_VERSION = version("trafilatura")

# Meta names carrying rights or consent signals, lower-cased: TDMRep (W3C CG final report,
# HTML and EPUB 2 forms), Dublin Core rights/licence, the noai directives some sites put in
# robots meta.
LICENCE_META = {
    "dc.rights",
    "dcterms.rights",
    "dc.license",
    "dcterms.license",
    "rights",
    "license",
    "copyright",
}
CONSENT_META = {"tdm-reservation", "tdm-policy", "tdm:reservation", "tdm:policy", "robots"}
TITLE_META = ("og:title", "twitter:title", "dc.title")
AUTHOR_META = ("author", "article:author", "dc.creator", "byl")
DATE_META = (
    "article:published_time",
    "og:published_time",
    "dc.date",
    "dcterms.date",
    "date",
    "pubdate",
    "publish-date",
)


# trafilatura's parser (trafilatura.utils.HTML_PARSER, same options), with lxml.html's element
# classes looked up in C: lxml.html's own lookup is a Python method, called for every element
# object lxml hands to Python, about 2,000 times per page inside trafilatura; measured, 4 % of
# extraction time on the bench crawl's pages, same trees and texts. Form elements get plain
# HtmlElement (lxml.html's form helpers, which neither trafilatura nor Commons uses).
HTML_PARSER = etree.HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
HTML_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)


def _from_bytes(html: str) -> HtmlElement | None:
    try:
        return fromstring(html.encode("utf8", "surrogatepass"), parser=HTML_PARSER)
    except Exception:  # what lxml raises on input it cannot parse is not one class
        return None


def parse_html(html: str) -> HtmlElement | None:
    """A decoded page as trafilatura.utils.load_html parses it (the same repairs, fallbacks
    and rejection of a page that is not HTML), with HTML_PARSER."""
    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    html = repair_faulty_html(html, beginning)
    tree, from_bytes = None, False
    try:
        tree = fromstring(html, parser=HTML_PARSER)
    except ValueError:  # a str declaring its encoding: lxml parses it as bytes
        tree, from_bytes = _from_bytes(html), True
    except Exception:  # as load_html: the bytes pass below gets its chance
        tree = None
    if (tree is None or len(tree) < 1) and not from_bytes:
        tree = _from_bytes(html)
    if tree is not None and dubious and len(tree) < 2:
        return None
    return tree


@dataclass
class PageExtraction:
    """What the clean stage keeps of one HTML page."""

    text: str | None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    language_hint: str | None = None
    licence_evidence: list[dict[str, str]] = field(default_factory=list)
    consent_evidence: list[dict[str, str]] = field(default_factory=list)


def _jsonld_objects(tree: HtmlElement) -> list[Any]:
    objects: list[Any] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            objects.append(json.loads(script.text or ""))
        except (ValueError, RecursionError):  # invalid, a huge number, or nested too deeply
            continue
    return objects


# JSON-LD puts `license` on a page's top nodes; deeper nesting is not searched (a hostile page
# can nest thousands of levels, and a recursive walk would fail the whole partition).
MAX_JSONLD_DEPTH = 64


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD value down to MAX_JSONLD_DEPTH, without recursion."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSONLD_DEPTH:
            continue
        if isinstance(node, dict):
            yield node
            stack.extend((child, depth + 1) for child in reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in reversed(node))


def _jsonld_value(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("@id", "url", "name"):
            if isinstance(value.get(key), str):
                return value[key].strip() or None
    if isinstance(value, list) and value:
        return _jsonld_value(value[0])
    return None


def _meta(tree: HtmlElement) -> dict[str, str]:
    """First content of each meta name/property, keys lower-cased."""
    found: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content]"):
        key = (meta.get("name") or meta.get("property") or "").strip().lower()
        if key and key not in found:
            found[key] = meta.get("content", "").strip()
    return found


def page_evidence(
    tree: HtmlElement, url: str, jsonld: list[Any] | None = None
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(licence evidence, consent evidence) found in the markup, each {channel, raw, location}."""
    licences: list[dict[str, str]] = []
    consents: list[dict[str, str]] = []
    for element in tree.xpath("//link[@rel] | //a[@rel]"):
        if "license" in element.get("rel", "").lower().split() and element.get("href"):
            channel = "html:link-rel-license" if element.tag == "link" else "html:a-rel-license"
            licences.append(
                {"channel": channel, "raw": element.get("href").strip(), "location": url}
            )
    for obj in _jsonld_objects(tree) if jsonld is None else jsonld:
        for node in _walk(obj):
            for key in ("license", "copyrightNotice", "usageInfo"):
                if key in node and (raw := _jsonld_value(node[key])):
                    licences.append({"channel": f"html:json-ld-{key}", "raw": raw, "location": url})
    for meta in tree.xpath("//meta[@content]"):
        key = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = meta.get("content", "").strip()
        if key in LICENCE_META and content:
            licences.append({"channel": f"html:meta-{key}", "raw": content, "location": url})
        elif key in CONSENT_META and content:
            if key == "robots" and not {"noai", "noimageai"} & {
                token.strip() for token in content.lower().split(",")
            }:
                continue
            consents.append({"channel": f"html:meta-{key}", "raw": content, "location": url})
    return licences, consents


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((meta[key] for key in keys if meta.get(key)), None)


def page_metadata(tree: HtmlElement, jsonld: list[Any] | None = None) -> dict[str, str | None]:
    meta = _meta(tree)
    title = _first(meta, TITLE_META) or (tree.findtext(".//title") or "").strip() or None
    author = _first(meta, AUTHOR_META)
    date = _first(meta, DATE_META)
    for obj in _jsonld_objects(tree) if jsonld is None else jsonld:
        for node in _walk(obj):
            author = author or _jsonld_value(node.get("author"))
            date = date or _jsonld_value(node.get("datePublished"))
            title = title or _jsonld_value(node.get("headline"))
    if date is None:
        times = tree.xpath("//time/@datetime")
        date = times[0].strip() if times else None
    language = (tree.get("lang") or meta.get("content-language") or "").strip() or None
    return {"title": title, "author": author, "date": date, "language_hint": language}


def extract_page(html: str, url: str | None = None, main_text: bool = True) -> PageExtraction:
    """Main text (None when trafilatura finds none), metadata and evidence of one page; with
    `main_text=False`, the evidence and metadata only (no trafilatura: most of the cost)."""
    tree = parse_html(html)
    if tree is None:
        return PageExtraction(text=None)
    jsonld = _jsonld_objects(tree)
    licences, consents = page_evidence(tree, url or "", jsonld)
    metadata = page_metadata(tree, jsonld)
    if not main_text:
        return PageExtraction(
            text=None, licence_evidence=licences, consent_evidence=consents, **metadata
        )
    xpath_guards.install()  # once per process: trafilatura's selections, fewer callbacks
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        with_metadata=False,
    )
    text = getattr(document, "text", None) if document is not None else None
    return PageExtraction(
        text=text or None,
        licence_evidence=licences,
        consent_evidence=consents,
        **metadata,
    )
