"""trafilatura's XPath expressions with an attribute guard before each EXSLT regex test: the
same node sets, fewer calls into Python.

trafilatura tests class and id names with `re:test(@class, '…')`. lxml evaluates XPath in C but
runs EXSLT regular expressions as Python callbacks, one per element the predicate reaches,
whether or not the element has the attribute. Profiled on the bench crawl, those callbacks were
10 of the 17 CPU-seconds trafilatura spent on 2,000 pages, most of them on elements with no id
and no class. `re:test(@a|@b, 'p')` becomes `((@a or @b) and re:test(@a|@b, 'p'))`: with neither
attribute the test reads the empty string, and the guard is added only where the pattern cannot
match the empty string, so each expression selects exactly the nodes it selected before
(`commons bench extraction` also compares every page's text both ways). trafilatura keeps its
expressions in module-level lists and names; they are swapped in place, once per process, and
`as_released()` puts the originals back for a baseline that must be plain trafilatura."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import trafilatura
from lxml import etree

REGEXP_NAMESPACE = "http://exslt.org/regular-expressions"
# re:test(<attribute>[|<attribute>…], '<pattern>'[, '<flags>']): XPath 1.0 string literals
# hold no quote of their own kind, so '[^']*' is the whole literal.
REGEX_TEST = re.compile(
    r"re:test\(\s*(@[\w-]+(?:\s*\|\s*@[\w-]+)*)\s*,\s*'([^']*)'(?:\s*,\s*'([^']*)')?\s*\)"
)


def guarded(expression: str) -> str:
    """`expression` with each regex test of attributes guarded by their presence, where the
    pattern cannot match the empty string (lxml's test: `re.search`, `i` for ignore case)."""

    def guard(call: re.Match[str]) -> str:
        attributes, pattern, flags = call.group(1), call.group(2), call.group(3) or ""
        compiled = re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
        if compiled.search("") is not None:
            return call.group(0)
        present = " or ".join(name.strip() for name in attributes.split("|"))
        return f"(({present}) and {call.group(0)})"

    return REGEX_TEST.sub(guard, expression)


# Where each swapped expression sits: (module, name) for a single one, (list, position) for a
# list member; and the original there. And each original expression's guarded form.
_released: list[tuple[object, str | int, etree.XPath]] = []
_guarded: dict[str, tuple[etree.XPath, etree.XPath]] = {}


@cache
def install() -> int:
    """Swap every trafilatura expression holding a regex test for its guarded form (once per
    process); how many distinct expressions were swapped."""

    def swapped(original: etree.XPath) -> etree.XPath:
        if original.path not in _guarded:
            replacement = etree.XPath(guarded(original.path), namespaces={"re": REGEXP_NAMESPACE})
            _guarded[original.path] = (original, replacement)
        return _guarded[original.path][1]

    replacements: set[int] = set()
    for module_info in pkgutil.iter_modules(trafilatura.__path__):
        module = importlib.import_module(f"trafilatura.{module_info.name}")
        for name, value in list(vars(module).items()):
            if isinstance(value, etree.XPath) and _has_regex_test(value, replacements):
                _released.append((module, name, value))
                setattr(module, name, swapped(value))
                replacements.add(id(getattr(module, name)))
            elif isinstance(value, list):
                for position, member in enumerate(value):
                    if isinstance(member, etree.XPath) and _has_regex_test(member, replacements):
                        _released.append((value, position, member))
                        value[position] = swapped(member)
                        replacements.add(id(value[position]))
    return len(_guarded)


def _has_regex_test(expression: etree.XPath, replacements: set[int]) -> bool:
    # A list shared by several modules is met once per module: swap it the first time only.
    return id(expression) not in replacements and "re:test" in expression.path


def swapped_pairs() -> list[tuple[etree.XPath, etree.XPath]]:
    """Each swapped expression: trafilatura's, and its guarded form."""
    return list(_guarded.values())


@contextmanager
def as_released() -> Iterator[None]:
    """trafilatura's own expressions for the block's duration (a baseline that must be plain
    trafilatura), the guarded ones again after it."""
    install()
    guarded_now = [_get(holder, key) for holder, key, _ in _released]
    for holder, key, original in _released:
        _set(holder, key, original)
    try:
        yield
    finally:
        for (holder, key, _), current in zip(_released, guarded_now, strict=True):
            _set(holder, key, current)


def _get(holder: object, key: str | int) -> etree.XPath:
    return holder[key] if isinstance(key, int) else getattr(holder, key)  # type: ignore[index]


def _set(holder: object, key: str | int, value: etree.XPath) -> None:
    if isinstance(key, int):
        holder[key] = value  # type: ignore[index]
    else:
        setattr(holder, key, value)
