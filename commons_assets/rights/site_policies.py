"""Site policies across partitions: every robots.txt, ai.txt and tdmrep.json capture of every
archive partition, keyed by host and capture time, and the rule that picks the capture that
governs a page.

Real crawls keep site files apart from the pages (Common Crawl publishes robots.txt captures in
their own WARC files), so a page is audited against the captures of its host from every WARC,
not only its own. The capture that governs a page is the one current when the page was fetched
(aipref attach draft: "the copy current at fetch time governs; later changes take effect only
after a re-fetch of both robots.txt and the resource"): the latest capture at or before the
page's fetch time. A site captured only after the page gets its earliest later capture, the
nearest evidence of the site's wishes there is; the evidence names the capture either way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from commons_assets.records import Schema
from commons_assets.rights.audit import SiteFiles
from commons_assets.rights.robots import RobotsTxt

ROLES = ("robots.txt", "ai.txt", "tdmrep")
DEFAULT_PORTS = {"http": 80, "https": 443}

SITE_POLICY_SCHEMA: Schema = {
    "host": pl.String,
    "role": pl.String,
    "captured_at": pl.String,
    "source_uri": pl.String,
    "source_partition": pl.String,
    "capture_id": pl.String,
    "http_status": pl.Int32,
    "text": pl.String,
}


def host_key(url: str | None) -> str:
    """The host a URL's site files belong to: lower-case host name, with the port only when it
    is not the scheme's default (`HTTPS://Example.org:443/x` and `https://example.org/` share
    one robots.txt)."""
    parts = urlsplit(url or "")
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a port that is not a number: keep the written authority
        return parts.netloc.lower()
    if port is None or DEFAULT_PORTS.get(parts.scheme.lower()) == port:
        return host
    return f"{host}:{port}"


def _instant(value: str | None) -> dt.datetime | None:
    """A WARC-Date (ISO 8601, UTC) as a comparable instant; None when absent or unreadable."""
    if not value:
        return None
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def captures(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The site-file captures among an archive partition's rows, as site-policy rows."""
    return [
        {
            "host": host_key(row["source_uri"]),
            "role": row["record_role"],
            "captured_at": row.get("date"),
            "source_uri": row["source_uri"],
            "source_partition": row.get("source_partition"),
            "capture_id": row["id"],
            "http_status": row.get("http_status"),
            "text": row.get("text"),
        }
        for row in rows
        if row.get("record_role") in ROLES
    ]


@dataclass(frozen=True)
class Capture:
    role: str
    captured_at: str | None
    source_uri: str
    source_partition: str | None
    capture_id: str
    http_status: int | None
    text: str | None

    @property
    def location(self) -> str:
        """How the evidence names this capture: URL, capture time and the partition holding it."""
        return (
            f"{self.source_uri} captured {self.captured_at or 'at an unknown time'} "
            f"in {self.source_partition}"
        )


class SitePolicies:
    """Every capture by host and role, oldest first; picks the one governing a page."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._by_host: dict[str, dict[str, list[Capture]]] = {}
        for row in rows:
            capture = Capture(
                row["role"],
                row.get("captured_at"),
                row["source_uri"],
                row.get("source_partition"),
                row["capture_id"],
                row.get("http_status"),
                row.get("text"),
            )
            self._by_host.setdefault(row["host"], {}).setdefault(row["role"], []).append(capture)
        self._parsed: dict[str, RobotsTxt] = {}  # capture id -> parsed file, once per capture
        never = dt.datetime.min.replace(tzinfo=dt.UTC)
        for roles in self._by_host.values():
            for found in roles.values():
                # Undated captures sort first: any dated capture is better evidence of a time.
                found.sort(key=lambda c: (_instant(c.captured_at) or never, c.capture_id))

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> SitePolicies:
        return cls(frame.to_dicts())

    def hosts(self) -> list[str]:
        return sorted(self._by_host)

    def governing(self, url: str, role: str, fetched_at: str | None) -> Capture | None:
        """The capture of the page's site file current when the page was fetched: the latest
        at or before its fetch time, else the earliest after it (None: never captured)."""
        found = self._by_host.get(host_key(url), {}).get(role, [])
        if not found:
            return None
        fetched = _instant(fetched_at)
        if fetched is None:
            return found[-1]  # unknown fetch time: the latest known wishes of the site
        before = [c for c in found if (_instant(c.captured_at) or fetched) <= fetched]
        return before[-1] if before else found[0]

    def files_for(self, url: str, fetched_at: str | None) -> SiteFiles:
        """The site files that govern one page, with the capture each came from."""
        robots = self.governing(url, "robots.txt", fetched_at)
        ai_txt = self.governing(url, "ai.txt", fetched_at)
        tdmrep = self.governing(url, "tdmrep", fetched_at)
        tdmrep_ok = tdmrep is not None and (
            tdmrep.http_status is None or 200 <= tdmrep.http_status < 300
        )
        return SiteFiles(
            robots=self._rules(robots) if robots else None,
            ai_txt=self._rules(ai_txt) if ai_txt else None,
            tdmrep_json=tdmrep.text if tdmrep_ok and tdmrep else None,
            locations={c.role: c.location for c in (robots, ai_txt, tdmrep) if c is not None},
        )

    def _rules(self, capture: Capture) -> RobotsTxt:
        """A robots.txt or ai.txt capture parsed once, however many pages of its site ask."""
        if capture.capture_id not in self._parsed:
            status = capture.http_status or 200
            self._parsed[capture.capture_id] = RobotsTxt.from_response(status, capture.text)
        return self._parsed[capture.capture_id]

    def digest(self, hosts: Iterable[str]) -> str:
        """A fingerprint of every capture of these hosts: it changes when a capture of one of
        them is added, removed or changed, so an audit made before can be found stale."""
        lines = sorted(
            f"{host}\t{c.role}\t{c.capture_id}\t{c.captured_at}\t{c.source_partition}"
            for host in set(hosts)
            for found in self._by_host.get(host, {}).values()
            for c in found
        )
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def fetched_at(row: Mapping[str, Any]) -> str | None:
    """When a page was fetched (its capture's WARC-Date): the site files current then govern
    it. A page cleaned by a Commons before `fetched_at` existed has only `date`, which is the
    capture date unless its markup stated a publication date (clean it again to be exact)."""
    return row.get("fetched_at") or row.get("date")
