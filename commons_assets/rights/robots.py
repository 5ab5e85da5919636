"""One RFC 9309 matcher for robots.txt Allow/Disallow, aipref `Content-Usage` paths, Cloudflare
`Content-Signal` lines and Spawning ai.txt (CONSENT_AND_LICENCES.md §4.4: do not decide with
`urllib.robotparser`, which matches first instead of longest, ignores wildcards, does not merge
groups and matches agents by substring).

RFC 9309 rules implemented: §2.2.1 product tokens match case-insensitively, groups for the same
token are merged, no matching group falls back to `*`, and with no `*` no rules apply; §2.2.2
the longest (most octets) matching rule wins and `allow` wins a tie, `/robots.txt` is always
allowed; §2.2.3 `*` matches any sequence and a trailing `$` anchors the end; §2.3.1.3 a 4xx
answer means no rules; §2.3.1.4 a 5xx answer (or none) means complete disallow.
aipref attach draft (-05): Content-Usage rules use the same longest match, apply only to paths
that may be crawled, and conflicting rules on identical paths combine most-restrictively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, urlsplit

ROBOTS_PATH = "/robots.txt"
GROUP_KEYS = ("user-agent", "allow", "disallow", "content-usage", "content-signal")
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+|\*")
# RFC 9309 §2.5: crawlers must parse at least 500 KiB.
MAX_BYTES = 500 * 1024


@dataclass
class Group:
    agents: list[str] = field(default_factory=list)
    rules: list[tuple[bool, str]] = field(default_factory=list)  # (allow, pattern)
    content_usage: list[tuple[str | None, str]] = field(default_factory=list)  # (path, value)
    content_signals: list[tuple[str | None, str]] = field(default_factory=list)


def normalise_path(path: str) -> str:
    """Percent-encode what is not ASCII and upper-case existing escapes, so that patterns and
    paths compare octet by octet (RFC 9309 §2.2.2)."""
    encoded = quote(path, safe="/:@!$&'()*+,;=?%~-._[]")
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), encoded)


@lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", body))
    return re.compile(regex + ("$" if anchored else ""), re.DOTALL)


def pattern_matches(pattern: str, path: str) -> bool:
    return _pattern(normalise_path(pattern)).match(path) is not None


def _split_path_value(value: str) -> tuple[str | None, str]:
    """aipref attach: a value starting with `/` carries a path up to the first SP or HTAB."""
    if value.startswith("/"):
        path, _, rest = value.partition(" ") if " " in value else value.partition("\t")
        return path, rest.strip()
    return None, value.strip()


def parse_robots(body: str) -> list[Group]:
    """Groups of a robots.txt body (at most 500 KiB parsed, RFC 9309 §2.5)."""
    groups: list[Group] = []
    current: Group | None = None
    last_was_agent = False
    for raw_line in (
        body.encode("utf-8", "replace")[:MAX_BYTES].decode("utf-8", "replace").splitlines()
    ):
        line = raw_line.split("#", 1)[0].strip()
        if ":" in line:
            key, _, value = line.partition(":")
        else:  # Google's parser (and its RFC 9309 tests) accept "Disallow /x" without a colon
            key, _, value = line.partition(" ")
        key, value = key.strip().lower(), value.strip()
        if key not in GROUP_KEYS:
            continue  # sitemap and unknown records neither start nor end a group
        if key == "user-agent":
            if current is None or not last_was_agent:
                current = Group()
                groups.append(current)
            token = _PRODUCT_TOKEN.match(value)
            if token:
                current.agents.append(token.group(0).lower())
            last_was_agent = True
            continue
        last_was_agent = False
        if current is None:
            continue
        if key in ("allow", "disallow") and value:
            pattern = value if value.startswith(("/", "*")) else "/" + value
            if pattern.startswith("*"):
                pattern = "/" + pattern  # Google-style leniency for `*.jpg` (ai.txt)
            current.rules.append((key == "allow", pattern))
        elif key == "content-usage" and value:
            current.content_usage.append(_split_path_value(value))
        elif key == "content-signal" and value:
            current.content_signals.append(_split_path_value(value))
    return groups


@dataclass(frozen=True)
class RobotsTxt:
    """A fetched robots.txt (or ai.txt): its status decides before its rules do."""

    groups: tuple[Group, ...]
    status: int | None = 200
    # Each token's merged group, merged once: a page's audit asks for dozens of AI crawler
    # tokens (full_disallow), and the clean and rights steps ask for every page of a site.
    _merged: dict[str, Group | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Which of a list of tokens the file blocks outright: the same for every page of the site.
    _blocked: dict[tuple[str, ...], tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_response(cls, status: int | None, body: str | None) -> RobotsTxt:
        if status is not None and 200 <= status < 300:
            return cls(tuple(parse_robots(body or "")), status)
        return cls((), status)

    @property
    def unavailable(self) -> bool:
        """4xx: no robots.txt, everything allowed (RFC 9309 §2.3.1.3)."""
        return self.status is not None and 400 <= self.status < 500

    @property
    def unreachable(self) -> bool:
        """5xx or no answer: assume complete disallow (RFC 9309 §2.3.1.4)."""
        return self.status is None or self.status >= 500

    def group_for(self, token: str) -> Group | None:
        """All groups naming the product token, merged; else the `*` groups; else None (the
        same object for every call: read it, do not change it)."""
        token = token.lower()
        if token not in self._merged:
            self._merged[token] = self._merge(token)
        return self._merged[token]

    def _merge(self, token: str) -> Group | None:
        for wanted in (token, "*"):
            matching = [g for g in self.groups if wanted in g.agents]
            if matching:
                merged = Group(agents=[wanted])
                for group in matching:
                    merged.rules += group.rules
                    merged.content_usage += group.content_usage
                    merged.content_signals += group.content_signals
                return merged
        return None

    def has_own_group(self, token: str) -> bool:
        return any(token.lower() in g.agents for g in self.groups)

    def can_fetch(self, token: str, url_or_path: str) -> bool:
        if self.unavailable:
            return True
        if self.unreachable:
            return False
        path = _path(url_or_path)
        if path == ROBOTS_PATH:
            return True
        group = self.group_for(token)
        if group is None:
            return True
        best: tuple[int, bool] | None = None
        for allow, pattern in group.rules:
            if pattern_matches(pattern, path):
                candidate = (len(normalise_path(pattern)), allow)
                # Longest pattern wins; on equal length allow wins (True > False).
                if best is None or candidate > best:
                    best = candidate
        return True if best is None else best[1]

    def full_disallow(self, token: str) -> bool:
        """Consent in Crisis's status "all": a `Disallow: /` and no Allow line, for the token's
        own group or, without one, the `*` group (DPI `interpret_agent`)."""
        if not self.groups:
            return False
        group = self.group_for(token)
        if group is None:
            return False
        allows = [p for allow, p in group.rules if allow]
        return (False, "/") in group.rules and not allows

    def fully_blocked(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """Those of `tokens` the file blocks outright (`full_disallow`): `*` through the `*`
        group, any other token only through a group naming it; in the order given."""
        if tokens not in self._blocked:
            self._blocked[tokens] = tuple(
                t for t in tokens if self.full_disallow(t) and (t == "*" or self.has_own_group(t))
            )
        return self._blocked[tokens]

    def _path_scoped(self, values: list[tuple[str | None, str]], path: str) -> list[str]:
        """Values whose path matches longest (no path matches everything, least specific)."""
        best_length = -1
        chosen: list[str] = []
        for rule_path, value in values:
            if rule_path is not None and not pattern_matches(rule_path, path):
                continue
            length = len(normalise_path(rule_path)) if rule_path is not None else 0
            if length > best_length:
                best_length, chosen = length, [value]
            elif length == best_length:
                chosen.append(value)  # identical paths: all apply, most restrictive combines
        return chosen

    def content_usage(self, token: str, url_or_path: str) -> list[str]:
        """aipref Content-Usage values that apply to a crawlable path (none when disallowed:
        "no preferences are implied for resources that are disallowed")."""
        group = self.group_for(token)
        if group is None or not self.can_fetch(token, url_or_path):
            return []
        return self._path_scoped(group.content_usage, _path(url_or_path))

    def content_signals(self, token: str, url_or_path: str) -> list[str]:
        group = self.group_for(token)
        if group is None:
            return []
        return self._path_scoped(group.content_signals, _path(url_or_path))


def _path(url_or_path: str) -> str:
    if url_or_path.startswith(("http://", "https://")):
        parts = urlsplit(url_or_path)
        path = parts.path or "/"
        return normalise_path(path + (f"?{parts.query}" if parts.query else ""))
    return normalise_path(url_or_path or "/")
