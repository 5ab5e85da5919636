"""trafilatura's expressions with attribute guards select exactly what the originals select, on
random trees built from the very names their patterns look for; the clean stage's text is the
same with and without them; and the baseline context puts trafilatura's own expressions back."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest
import trafilatura.xpaths
from lxml import etree
from lxml.html import HtmlElement, fromstring

from commons_assets.clean import xpath_guards
from commons_assets.clean.extraction import extract_page
from commons_tests.clean.test_extraction import sample_pages

TAGS = (
    "div", "p", "span", "section", "article", "main", "ul", "ol", "li", "a", "nav", "footer",
    "header", "aside", "details", "h1", "h2", "time", "table", "td",
)  # fmt: skip
ATTRIBUTES = ("id", "class", "style", "role", "rel", "itemprop", "name", "aria-hidden")


def _names(expressions: list[etree.XPath]) -> list[str]:
    """The words the expressions' patterns and literals look for."""
    found = set()
    for expression in expressions:
        found.update(re.findall(r"[A-Za-z][A-Za-z_]{2,}(?:-[A-Za-z_]+)*", expression.path))
    return sorted(found)


def _value(rng: random.Random, names: list[str]) -> str:
    shape = rng.random()
    if shape < 0.15:
        return ""
    words = [rng.choice(names) for _ in range(rng.randint(1, 3))]
    if shape < 0.3:
        words = [word.upper() if rng.random() < 0.5 else word.capitalize() for word in words]
    if shape < 0.45:
        words = [f"{rng.choice(['x', 'my', 'is'])}-{word}" for word in words]
    if shape < 0.55:
        return "display:none" if rng.random() < 0.5 else "hidden"
    return rng.choice([" ", "-", "_", ""]).join(words)


def random_tree(rng: random.Random, names: list[str], size: int = 400) -> HtmlElement:
    root = fromstring("<html><body></body></html>")
    elements = [root.find("body")]
    for _ in range(size):
        element = etree.SubElement(rng.choice(elements), rng.choice(TAGS))
        for attribute in rng.sample(ATTRIBUTES, rng.choice([0, 0, 1, 1, 2, 3])):
            element.set(attribute, "true" if attribute == "aria-hidden" else _value(rng, names))
        element.text = rng.choice(["", "text", "Comments", "by"])
        elements.append(element)
    return root


def test_guards_leave_patterns_that_match_nothing_alone() -> None:
    assert xpath_guards.guarded("//*[re:test(@class, 'nav|menu', 'i')]") == (
        "//*[((@class) and re:test(@class, 'nav|menu', 'i'))]"
    )
    assert xpath_guards.guarded("//*[re:test(@id|@class, '^ad-')]") == (
        "//*[((@id or @class) and re:test(@id|@class, '^ad-'))]"
    )
    # A pattern that matches the empty string is true for an element without the attribute:
    # a guard there would change the selection.
    for pattern in ("x*", "^", "(ad)?$"):
        expression = f"//*[re:test(@class, '{pattern}')]"
        assert xpath_guards.guarded(expression) == expression
    tree = fromstring("<div><p>a</p><p class='b'>b</p></div>")
    for expression in ("//p[re:test(@class, 'x*')]", "//p[re:test(@class, 'b')]"):
        original = etree.XPath(expression, namespaces={"re": xpath_guards.REGEXP_NAMESPACE})
        guarded = etree.XPath(
            xpath_guards.guarded(expression), namespaces={"re": xpath_guards.REGEXP_NAMESPACE}
        )
        assert original(tree) == guarded(tree)


@pytest.mark.parametrize("seed", range(4))
def test_guarded_expressions_select_what_trafilatura_selects(seed: int) -> None:
    xpath_guards.install()
    pairs = xpath_guards.swapped_pairs()
    assert len(pairs) >= 20  # every expression of trafilatura's that tests a regex
    names = _names([original for original, _ in pairs])
    rng = random.Random(seed)
    selected = 0
    for _ in range(5):
        tree = random_tree(rng, names)
        for original, guarded in pairs:
            assert "re:test" in original.path and guarded.path != original.path
            found = original(tree)
            assert guarded(tree) == found, original.path
            selected += len(found) if isinstance(found, list) else 0
    assert selected > 500  # the trees hold what the patterns look for


def test_the_clean_stage_text_is_plain_trafilaturas() -> None:
    pages = sample_pages()
    assert len(pages) >= 5
    with xpath_guards.as_released():
        assert "re:test(@id" in trafilatura.xpaths.OVERALL_DISCARD_XPATH[0].path
        assert "(@id) and" not in trafilatura.xpaths.OVERALL_DISCARD_XPATH[0].path
        plain = [extract_page(html, url).text for html, url in pages]
    assert "(@id) and re:test" in trafilatura.xpaths.OVERALL_DISCARD_XPATH[0].path
    guarded = [extract_page(html, url).text for html, url in pages]
    assert guarded == plain and any(plain)


def test_the_clean_stage_installs_the_guards_itself() -> None:
    """A fresh process that extracts one page runs trafilatura with the guarded expressions."""
    program = (
        "import trafilatura.xpaths as x\n"
        "from commons_assets.clean.extraction import extract_page\n"
        "before = x.OVERALL_DISCARD_XPATH[0].path\n"
        "extract_page('<html><body><article><p>' + 'Some words here. ' * 40 + "
        "'</p></article></body></html>')\n"
        "print('(@id) and' in before, '(@id) and' in x.OVERALL_DISCARD_XPATH[0].path)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "True"], done.stderr
